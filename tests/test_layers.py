"""Imports flow one way: bot → handlers → models → words, and bot → models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "words": {
        "bot",
        "handlers",
        "models",
        "flask",
        "sqlalchemy",
        "wechatpy",
        "apscheduler",
        "jieba",
    },
    "models": {"bot", "handlers", "flask", "wechatpy", "apscheduler", "jieba"},
    "handlers": {"bot", "flask", "wechatpy", "apscheduler", "werkzeug"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upwards(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        bad = _imports(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
