"""Streamlit's "magic" writes every bare string expression of a page script onto the page: a
docstring under a constant in ``pages/label.py`` once showed up above the labelling loop. Page
scripts (``app.py`` and each ``st.Page`` it names) hold none beyond their module docstring."""

from __future__ import annotations

import ast

from tests.app.conftest import ROOT


def page_scripts() -> list[str]:
    """``app.py`` and the scripts it passes to ``st.Page``."""
    tree = ast.parse((ROOT / "app.py").read_text())
    pages = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", None) == "Page"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    return ["app.py", *pages]


def bare_strings(path: str) -> list[int]:
    """Lines of string expressions that magic would show (module docstring excepted)."""
    tree = ast.parse((ROOT / path).read_text())
    found = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for i, statement in enumerate(body):
            docstring = i == 0 and isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
            if (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
                and not docstring
            ):
                found.append(statement.lineno)
    return found


def test_the_app_names_its_pages():
    assert page_scripts() == ["app.py", "pages/label.py", "pages/dataset.py"]


def test_page_scripts_hold_no_string_that_magic_would_show():
    shown = {path: lines for path in page_scripts() if (lines := bare_strings(path))}
    assert shown == {}, f"bare strings Streamlit would write onto the page (file: lines): {shown}"
