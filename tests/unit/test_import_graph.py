"""The imports inside ``labeller/`` run one way: no module imports itself back through
others, and no package of it imports another that imports it back (``store -> tables <-
export``, not ``store <-> export``). Read from the source with ``ast``, so an import hidden
inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "labeller"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(name: str) -> set[str]:
    """The ``labeller`` modules that module ``name`` imports (at any depth of its code)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    skipped: set[int] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skipped.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {}
"""Cycles found on main and not yet broken, each with how to break it. Nothing else may join."""


def unit(name: str) -> str:
    """A module's package-level unit: ``labeller.store.writing`` -> ``labeller.store``."""
    parts = name.split(".")
    return ".".join(parts[:2])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_is_read_right() -> None:
    """The reader sees what it must: absolute, relative, nested and from-package imports."""
    assert "labeller.store.schema" in GRAPH["labeller.store.writing"]
    assert "labeller.tables" in GRAPH["labeller.export"]
    assert "labeller.export" in GRAPH["labeller.importing"]  # imported inside a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_labeller_imports_itself_back() -> None:
    # A package's __init__ re-exports its modules, which import siblings by full name: that
    # is the package importing its own parts, not a cycle between modules.
    modules = {
        name: {
            m
            for m in deps
            if not (MODULES[m].name == "__init__.py" and name.startswith(m + "."))
            and (name, m) not in KNOWN_BACK_EDGES
        }
        for name, deps in GRAPH.items()
    }
    cycle = find_cycle(modules)
    assert cycle is None, " -> ".join(cycle)


def test_the_known_back_edges_are_still_there() -> None:
    """An entry of KNOWN_BACK_EDGES whose import is gone must go too (it hides nothing then)."""
    gone = [edge for edge in KNOWN_BACK_EDGES if edge[1] not in GRAPH.get(edge[0], set())]
    assert gone == [], f"delete these from KNOWN_BACK_EDGES: {gone}"


def test_no_package_of_labeller_imports_another_that_imports_it_back() -> None:
    units: dict[str, set[str]] = {}
    for name, deps in GRAPH.items():
        units.setdefault(unit(name), set()).update(unit(d) for d in deps if unit(d) != unit(name))
    cycle = find_cycle(units)
    assert cycle is None, " -> ".join(cycle)


def test_the_store_knows_no_file_format_and_the_exports_no_store() -> None:
    store = {d for name, deps in GRAPH.items() if unit(name) == "labeller.store" for d in deps}
    assert not store & {"labeller.export", "labeller.importing"}
    assert not {unit(d) for d in GRAPH["labeller.export"] | GRAPH["labeller.importing"]} & {"labeller.store"}
    sources = "\n".join(p.read_text() for n, p in MODULES.items() if unit(n) == "labeller.store")
    assert "parquet" not in sources.lower()


def test_the_core_works_on_the_domain_types_not_on_the_adapters() -> None:
    """Store, rendering, cache, exports and charts take ``labeller.scenes``; only the loop and
    prefetch see a source, and then only through its protocol (``labeller.sources.base``)."""
    core = (
        "labeller.store",
        "labeller.render",
        "labeller.scene_cache",
        "labeller.export",
        "labeller.spectra",
    )
    for name, deps in GRAPH.items():
        if unit(name) in core or name in core:
            assert not {d for d in deps if d.startswith("labeller.sources")}, name
    for name in ("labeller.prefetch", "labeller.labelling", "labeller.timeseries"):
        adapters = {d for d in GRAPH[name] if d.startswith("labeller.sources")}
        assert adapters <= {"labeller.sources", "labeller.sources.base", "labeller.sources.registry"}, name
