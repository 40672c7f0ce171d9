"""Conversation states are named once (models/states.py): the floor that asks a question and
the handler that takes its answer use the same constant, and every named state has a handler."""

from __future__ import annotations

import ast
from pathlib import Path

from handlers import build_router
from models.states import STATES

ROOT = Path(__file__).resolve().parent.parent


def test_every_named_state_has_exactly_the_handler_the_router_knows() -> None:
    assert sorted(build_router()._tables().states) == sorted(STATES)
    assert len(set(STATES)) == len(STATES)


def test_no_question_is_asked_under_a_bare_string() -> None:
    bare: list[str] = []
    for folder in ("bot", "handlers", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                where = {"push_state": 2, "state": 0}.get(name)
                if where is None or len(node.args) <= where:
                    continue
                if isinstance(node.args[where], ast.Constant):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []
