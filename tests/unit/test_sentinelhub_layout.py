"""The Sentinel Hub adapter's layout: one package alone imports ``sentinelhub``, in modules of
one concern each, none over 300 lines; its collections carry sentinelhub-py's band order."""

from __future__ import annotations

import ast
from pathlib import Path

from labeller.bands import L1C, L2A
from labeller.sources.sentinelhub.process import DATA_COLLECTIONS

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


def test_scenes_carry_the_bands_in_sentinelhub_pys_order():
    """The ``bands`` output lists ``Collection.band_names``; the fake answers a merged output in
    that order, which is also the order of sentinelhub-py's collections."""
    for collection in (L1C, L2A):
        library = [band.name for band in DATA_COLLECTIONS[collection.id].bands]
        assert tuple(library) == collection.band_names
    assert " ".join(L2A.band_names) == "B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B11 B12"
