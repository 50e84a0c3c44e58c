"""Every public name is documented, and no rendered signature shows a private parameter."""

import ast
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mongocat

API_PAGE = Path(__file__).parents[2] / "docs" / "api.rst"


def documented_data() -> set[str]:
    """Names assigned at module level with a ``#:`` comment just above, in any module."""
    names: set[str] = set()
    for module in pkgutil.iter_modules(mongocat.__path__):
        source = Path(mongocat.__path__[0], f"{module.name}.py").read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.parse(source).body:
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if above.startswith("#:"):
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def own_doc(obj: Any) -> str:
    """The docstring ``obj`` declares itself (a class's, not one inherited)."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        return doc if isinstance(doc, str) else ""
    return obj.__doc__ or ""


def public_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties ``cls`` defines itself."""
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(member, staticmethod | classmethod):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            yield name, member


EXPORTED = sorted(mongocat.__all__)
CLASSES = [getattr(mongocat, name) for name in EXPORTED if inspect.isclass(getattr(mongocat, name))]


@pytest.mark.parametrize("name", EXPORTED)
def test_every_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(mongocat, name)
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
        assert own_doc(obj).strip(), f"mongocat.{name} has no docstring"
    else:  # data: type aliases, the TypeVar, F, __version__
        assert name in documented_data() or name == "__version__", (
            f"mongocat.{name} needs a '#:' doc comment above its assignment"
        )


@pytest.mark.parametrize("name", EXPORTED)
def test_every_public_name_is_in_the_api_reference(name: str) -> None:
    if name == "__version__":
        return
    page = API_PAGE.read_text(encoding="utf-8")
    assert re.search(rf"::\s+(mongocat\.)?{re.escape(name)}\s*$", page, re.MULTILINE), (
        f"docs/api.rst does not document {name}"
    )


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_public_methods_are_documented_and_take_no_private_parameters(cls: type) -> None:
    for name, member in public_members(cls):
        function = member.fget if isinstance(member, property) else member
        if name != "__init__":
            assert (function.__doc__ or "").strip(), f"{cls.__name__}.{name} has no docstring"
        private = [p for p in inspect.signature(function).parameters if p.startswith("_")]
        assert not private, f"{cls.__name__}.{name} shows private parameters {private}"


def test_the_documented_data_finder_sees_comments() -> None:
    found = documented_data()
    assert {"F", "DocT", "FilterLike"} <= found
    assert "DATABASE" not in found  # demo.py's constant has no doc comment
