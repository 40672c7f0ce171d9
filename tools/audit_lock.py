"""Audit requirements.lock for known vulnerabilities and yanked releases, from PyPI's JSON API.

pip-audit asks PyPI for each pinned release (`/pypi/NAME/VERSION/json`) or asks OSV; where
neither answers (a registry mirror that serves only `/pypi/NAME/json` and the simple index),
it cannot audit anything. This does what pip-audit's PyPI service does, with a fallback:

- the release's own JSON where it is served: its `vulnerabilities` (PyPI's advisories, from
  OSV / the Python Packaging Advisory Database) apply to the pinned version exactly;
- otherwise the project's JSON, whose `vulnerabilities` are those of the latest release: they
  apply to the pin when the pin *is* the latest release; a pin behind the latest cannot be
  audited that way and is listed as unaudited (an error with --strict);
- a pinned release that was yanked is a finding too.

With --check-venv, first: the lock must be exactly what `pip freeze --exclude-editable` lists
for the interpreter running this (the project's venv), so a new dependency cannot go unaudited.
Exit status 1 when anything is found (or, with --strict, left unaudited); the network or the
registry failing is exit 2, never a silent pass.

    .venv/bin/python tools/audit_lock.py [--check-venv] [--strict] [requirements.lock]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

PYPI = "https://pypi.org/pypi"


@dataclass
class Verdict:
    name: str
    version: str
    latest: str = ""
    findings: list[str] = field(default_factory=list)
    audited: bool = True


def pins(path: Path) -> list[tuple[str, str]]:
    return _parse(path.read_text(encoding="utf-8"))


def _parse(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            found.append((name.strip(), version.split(";")[0].strip()))
    return found


def drift(lock: Path) -> list[str]:
    """How this interpreter's environment differs from the lock (pip freeze, no editables)."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    installed = {name.lower(): version for name, version in _parse(frozen)}
    locked = {name.lower(): version for name, version in pins(lock)}
    return [
        f"{name}: locked {locked.get(name, '-')}, installed {installed.get(name, '-')}"
        for name in sorted(installed.keys() | locked.keys())
        if installed.get(name) != locked.get(name)
    ]


def _json(url: str) -> dict[str, Any] | None:
    response = requests.get(url, timeout=30)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def _advisories(data: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({', '.join(v.get('aliases') or []) or 'no alias'}), "
        f"fixed in {', '.join(v.get('fixed_in') or []) or 'no release yet'}"
        for v in data.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]


def audit(name: str, version: str) -> Verdict:
    verdict = Verdict(name, version)
    release = _json(f"{PYPI}/{name}/{version}/json")
    project = _json(f"{PYPI}/{name}/json")
    if project is None:
        verdict.findings.append("not on PyPI")
        return verdict
    verdict.latest = str(project["info"]["version"])
    files = project.get("releases", {}).get(version) or []
    if files and all(f.get("yanked") for f in files):
        reason = files[0].get("yanked_reason") or "no reason given"
        verdict.findings.append(f"yanked: {reason}")
    if release is not None:
        verdict.findings += _advisories(release)
    elif verdict.latest == version:
        verdict.findings += _advisories(project)
    else:
        verdict.audited = False
    return verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", nargs="?", default="requirements.lock", type=Path)
    parser.add_argument("--strict", action="store_true", help="Fail on unaudited pins too.")
    parser.add_argument(
        "--check-venv", action="store_true", help="Fail when this environment is not the lock."
    )
    args = parser.parse_args()
    if args.check_venv and (differences := drift(args.lock)):
        print(f"{args.lock} is not what is installed; regenerate it (see its README entry):")
        print("\n".join(f"  {line}" for line in differences))
        return 1
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            verdicts = list(pool.map(lambda pin: audit(*pin), pins(args.lock)))
    except requests.RequestException as exc:
        print(f"audit: cannot reach PyPI's JSON API: {exc}", file=sys.stderr)
        return 2
    found = [v for v in verdicts if v.findings]
    unaudited = [v for v in verdicts if not v.audited and not v.findings]
    for v in found:
        for finding in v.findings:
            print(f"{v.name}=={v.version}: {finding}")
    for v in unaudited:
        print(f"{v.name}=={v.version}: unaudited (latest is {v.latest}; no per-release data)")
    print(
        f"audit: {len(verdicts)} pins, {len(found)} with findings, "
        f"{len(unaudited)} unaudited, {len(verdicts) - len(found) - len(unaudited)} clean"
    )
    return 1 if found or (args.strict and unaudited) else 0


if __name__ == "__main__":
    raise SystemExit(main())
