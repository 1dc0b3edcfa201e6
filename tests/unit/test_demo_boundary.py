"""The demo package's boundary: outside it (and its own tests) only its public names are used."""

from __future__ import annotations

import ast
from pathlib import Path

import labeller.sources.demo as demo

ROOT = Path(__file__).resolve().parents[2]
OWN_TESTS = {"tests/unit/test_demo_source.py", "tests/unit/test_demo_boundary.py"}


def _demo_imports(path: Path) -> list[str]:
    """What a file imports from the demo package: ``name`` or ``module.name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("labeller.sources.demo")
        ):
            found += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("labeller.sources.demo")]
    return found


def test_only_demo_source_and_land_cover_are_used_outside_the_package():
    files = [
        ROOT / "app.py",
        *(p for d in ("labeller", "pages", "tests", "benchmarks") for p in (ROOT / d).rglob("*.py")),
    ]
    outside = {}
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("labeller/sources/demo/") or rel in OWN_TESTS or "node_modules" in rel:
            continue
        used = [
            name
            for name in _demo_imports(path)
            if name.rsplit(".", 1)[0] != "labeller.sources.demo" or name.rsplit(".", 1)[1] not in demo.__all__
        ]
        if used:
            outside[rel] = used
    assert outside == {}
    assert sorted(demo.__all__) == ["DemoSource", "LandCover"]
    assert _demo_imports(ROOT / "tests" / "fakes" / "sentinelhub_server.py") == [
        "labeller.sources.demo.DemoSource",
        "labeller.sources.demo.LandCover",
    ]


def test_every_demo_module_holds_one_concern_in_at_most_300_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in Path(demo.__file__).parent.glob("*.py")}
    assert sorted(sizes) == [
        "__init__.py", "cells.py", "clouds.py", "land.py", "listing.py", "noise.py",
        "rendering.py", "source.py", "spectra.py", "sun.py",
    ]  # fmt: skip
    assert max(sizes.values()) <= 300, sizes
