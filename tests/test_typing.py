"""Who acts is typed: no function of an app takes a user, actor, assignee or manager as Any."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = {"user", "actor", "assignee", "manager", "owner", "to_manager", "from_manager", "recipient", "author"}


def _modules() -> list[Path]:
    """Every module of every app (migrations aside): views, forms, admin, API and tags too."""
    return sorted(path for path in (ROOT / "apps").rglob("*.py") if "migrations" not in path.parts)


def _untyped_people(path: Path) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.arg not in PEOPLE:
                continue
            annotation = ast.unparse(arg.annotation) if arg.annotation else ""
            if not annotation or "Any" in annotation.split(" | "):
                where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({arg.arg}: {annotation or '?'})"
                problems.append(where)
    return problems


def test_every_person_parameter_of_a_service_or_selector_is_typed_as_the_user_model():
    modules = _modules()
    assert len(modules) > 200

    problems = [problem for path in modules for problem in _untyped_people(path)]

    assert problems == []
