"""Write a working development config from config.example.toml (used by `make run`).

`python -m bot.devconfig EXAMPLE OUT`: does nothing if OUT exists; otherwise copies EXAMPLE,
keeping its comments, with development mode and a random secret key and token.
"""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

from .config import load_settings


def development_config(example: str) -> str:
    replacements = {
        "secret_key": secrets.token_urlsafe(32),
        "mode": "development",
        "token": secrets.token_hex(16),
    }
    text = example
    for key, value in replacements.items():
        text, count = re.subn(
            rf'^{key} = ".*"$', f'{key} = "{value}"', text, count=1, flags=re.MULTILINE
        )
        if count != 1:
            raise SystemExit(f"devconfig: no line '{key} = ...' in the example config")
    return text


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bot.devconfig EXAMPLE OUT", file=sys.stderr)
        return 2
    example, out = Path(argv[0]), Path(argv[1])
    if out.exists():
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(development_config(example.read_text(encoding="utf-8")), encoding="utf-8")
    load_settings(out)  # refuse to leave a config behind that would not load
    print(f"wrote {out} (development mode, SQLite, plain mode)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
