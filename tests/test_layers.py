"""The domain holds no pages: agreements/ and audit/ never import Django's forms, views or shortcuts (the layers
between the project's own apps are import-linter's contracts in pyproject.toml, run by `make test`)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("django.forms", "django.views", "django.shortcuts", "django.template")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("app", ["agreements", "audit"])
def test_the_domain_never_imports_forms_or_views(app: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in _imports(path) if name.startswith(FORBIDDEN))
        for path in (ROOT / app).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from django import forms\nimport django.views.generic\n")
    assert {"django.forms", "django.views.generic"} <= _imports(module)
