"""The Sentinel Hub adapter's layout: one package alone imports ``sentinelhub``, in modules of
one concern each, none over 300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "labeller" / "sources" / "sentinelhub"


def _imports_sentinelhub(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        if any(name == "sentinelhub" or name.startswith("sentinelhub.") for name in names):
            return True
    return False


def test_only_the_sentinelhub_package_imports_sentinelhub():
    importers = {
        p.relative_to(ROOT).as_posix()
        for d in ("labeller", "pages")
        for p in (ROOT / d).rglob("*.py")
        if _imports_sentinelhub(p)
    }
    assert importers == {
        "labeller/sources/sentinelhub/catalog.py",
        "labeller/sources/sentinelhub/client.py",
        "labeller/sources/sentinelhub/errors.py",
        "labeller/sources/sentinelhub/process.py",
        "labeller/sources/sentinelhub/source.py",
    }


def test_every_sentinelhub_module_holds_one_concern_in_at_most_300_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert sorted(sizes) == [
        "__init__.py", "catalog.py", "client.py", "errors.py", "process.py", "redaction.py",
        "services.py", "source.py",
    ]  # fmt: skip
    assert max(sizes.values()) <= 300, sizes
