"""Imports flow one way: bot → handlers → models → words, and bot → models; no cycles.

Read from the source with `ast`: every import counts, the ones inside functions too (a local
import hides a cycle, it does not remove it), except those under `if TYPE_CHECKING:`, which
never run. Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first, so an import
also counts as one of each package above the module it names.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import write_config

ROOT = Path(__file__).resolve().parent.parent
OURS = ("words", "models", "handlers", "bot", "devtools")
PRODUCTION = ("words", "models", "handlers", "bot")

FORBIDDEN = {
    "words": {
        "bot",
        "handlers",
        "models",
        "devtools",
        "flask",
        "sqlalchemy",
        "wechatpy",
        "apscheduler",
        "jieba",
    },
    "models": {"bot", "handlers", "devtools", "flask", "wechatpy", "apscheduler", "jieba"},
    "handlers": {"bot", "devtools", "flask", "wechatpy", "apscheduler", "werkzeug"},
}
# The only doors from production code to the development doubles (devtools/): the
# development commands and the development-mode /simulator page, each inside the function
# that needs it, so no production process loads a double.
DEV_DOORS = {
    ("bot.cli.fake", "devtools.fake_wechat"),
    ("bot.cli.simulate", "devtools.simulator"),
    ("bot.cli.serve", "devtools.demo"),
    ("bot.console.simulator", "devtools.simulator"),
}


@dataclass(frozen=True)
class Import:
    target: str  # the module imported (a submodule when `from pkg import submodule`)
    line: int
    local: bool  # inside a function: runs when called, not when the module loads


def _modules() -> dict[str, Path]:
    found = {}
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, local: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node that runs, and whether it is inside a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            for other in child.orelse:
                yield other, local
                yield from _walk(other, local)
            continue
        yield child, local
        inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, inner)


def _base(module: str, level: int, current: str) -> str:
    package = current.split(".")
    if MODULES[current].name != "__init__.py":
        package.pop()
    package = package[: len(package) - (level - 1)]
    return ".".join([*package, module] if module else package)


def imports_of(current: str, *, third_party: bool = False) -> list[Import]:
    """What `current` imports of ours (with `third_party`, every top-level name instead)."""
    tree = ast.parse(MODULES[current].read_text(encoding="utf-8"))
    found: list[Import] = []
    for node, local in _walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno, local) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(node.module or "", node.level, current) if node.level else node.module
            assert base is not None
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(sub if sub in MODULES else base, node.lineno, local))
    if third_party:
        return found
    return [i for i in found if i.target.split(".")[0] in OURS]


def _with_packages(current: str, found: list[Import]) -> list[Import]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ (those not already running)."""
    more = []
    for item in found:
        parts = item.target.split(".")
        for end in range(1, len(parts)):
            package = ".".join(parts[:end])
            if current != package and not current.startswith(package + "."):
                more.append(Import(package, item.line, item.local))
    return found + more


def _floor(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upwards(package: str) -> None:
    for module in (m for m in MODULES if _floor(m) == package):
        names = {i.target.split(".")[0] for i in imports_of(module, third_party=True)}
        bad = names & FORBIDDEN[package]
        assert not bad, f"{MODULES[module].relative_to(ROOT)} imports {sorted(bad)}"


def test_config_is_a_leaf_that_imports_only_words() -> None:
    """Config is read by every floor, so it reads none of them: no menu, scheduler, handlers."""
    for module in (m for m in MODULES if m == "bot.config" or m.startswith("bot.config.")):
        for item in imports_of(module):
            inside = item.target == "bot.config" or item.target.startswith("bot.config.")
            assert inside or _floor(item.target) == "words", (
                f"{MODULES[module].relative_to(ROOT)}:{item.line} imports {item.target}"
            )


def test_production_code_reaches_development_doubles_only_through_the_dev_doors() -> None:
    for module in (m for m in MODULES if _floor(m) in PRODUCTION):
        for item in imports_of(module):
            if _floor(item.target) != "devtools":
                continue
            where = f"{MODULES[module].relative_to(ROOT)}:{item.line}"
            assert (module, item.target) in DEV_DOORS, f"{where} imports {item.target}"
            assert item.local, f"{where}: import {item.target} inside the function that runs it"


def test_a_production_process_loads_no_development_double(tmp_path: Path) -> None:
    """The web app as gunicorn loads it (bot.wsgi), the CLI, the worker and the scheduler."""
    config = write_config(
        tmp_path / "production.toml",
        app={"database_url": f"sqlite:///{tmp_path / 'p.db'}", "secret_key": "not-the-example"},
        wechat={"token": "t"},
    )
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.wsgi, bot.cli, bot.delivery.worker, bot.schedule\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'devtools'))",
        ],
        env={**os.environ, "YISHITING_CONFIG": str(config)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_the_wechat_edge_owns_its_api_client_and_token_store() -> None:
    assert "bot.wechat.api" in MODULES and "bot.wechat.tokens" in MODULES
    assert "bot.delivery.api" not in MODULES and "bot.delivery.tokens" not in MODULES
    for module in (m for m in MODULES if m.startswith("bot.wechat.")):
        for item in imports_of(module):
            assert not item.target.startswith("bot.delivery"), (
                f"{MODULES[module].relative_to(ROOT)}:{item.line}: the edge imports delivery"
            )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_not_even_through_local_imports() -> None:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        targets = {i.target for i in _with_packages(module, imports_of(module))}
        graph[module] = {
            t for t in targets if t in MODULES and t != module and (module, t) not in DEV_DOORS
        }
    assert _cycles(graph) == []
