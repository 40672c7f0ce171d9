"""Write a working development config from config.example.toml (used by `make run`).

`python -m devtools.devconfig EXAMPLE OUT [--port N]`: when OUT is missing, copies EXAMPLE, keeping
its comments, with development mode, a random secret key and token, and `public_url` for the
port `make run` serves on. When OUT exists, only a local `public_url` (empty or
http://127.0.0.1:N, as written here) follows the port; everything else is the admin's.
Written with mode 0600: the file holds the secret key and the token.

`--account NAME:COMMUNITY` (repeatable) writes one `[[accounts]]` table per account instead of
the `[wechat]` token (plain mode, a random token each, a made-up AppID, no secret: pushes go to
the console), e.g. `--account east:东社区 --account street:street`; each is served at
/wechat/NAME. Without it the config has the one `[wechat]` account, as before.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

from bot.config import load_settings
from bot.config.accounts import NAME, NAME_RULE

PUBLIC_URL = re.compile(r'^public_url = "(.*)"$', re.MULTILINE)
# What this module writes (or the example's empty default): nothing an admin chose.
LOCAL_URL = re.compile(r"(http://(127\.0\.0\.1|localhost):\d+/?)?")


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def development_config(
    example: str, port: int = 5000, accounts: tuple[tuple[str, str], ...] = ()
) -> str:
    """The example made a development config; `accounts`: (name, community) pairs written as
    [[accounts]] tables (the [wechat] token then stays empty: each account has its own)."""
    replacements = {
        "secret_key": secrets.token_urlsafe(32),
        "mode": "development",
        "token": "" if accounts else secrets.token_hex(16),
        "public_url": local_url(port),
    }
    text = example
    for key, value in replacements.items():
        text, count = re.subn(
            rf'^{key} = ".*"$', f'{key} = "{value}"', text, count=1, flags=re.MULTILINE
        )
        if count != 1:
            raise SystemExit(f"devconfig: no line '{key} = ...' in the example config")
    return text + "".join(account_table(name, community) for name, community in accounts)


def account_table(name: str, community: str) -> str:
    """One development [[accounts]] table: plain mode, a random token, no app secret."""
    return (
        f"\n[[accounts]]\n"
        f'name = "{name}"\n'
        f'community = "{community}"\n'
        f'token = "{secrets.token_hex(16)}"\n'
        f'app_id = "wx_dev_{name}"\n'
        'app_secret = ""\n'
        'encoding_aes_key = ""\n'
    )


def account_spec(text: str) -> tuple[str, str]:
    """`NAME:COMMUNITY` (COMMUNITY a community's name, or "street")."""
    name, sep, community = text.partition(":")
    if not sep or not NAME.fullmatch(name) or not community.strip() or '"' in community:
        raise argparse.ArgumentTypeError(
            f"{text!r}: NAME:COMMUNITY, NAME {NAME_RULE}, COMMUNITY a name or street"
        )
    return name, community.strip()


def follow_port(config: str, port: int) -> str | None:
    """The config with its local `public_url` moved to `port`; None when nothing changes (the
    address is the admin's own, e.g. https, or already right)."""
    match = PUBLIC_URL.search(config)
    if match is None or not LOCAL_URL.fullmatch(match.group(1)):
        return None
    if match.group(1) == local_url(port):
        return None
    line = f'public_url = "{local_url(port)}"'
    return config[: match.start()] + line + config[match.end() :]


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (atomically: no half-written file)."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o600)  # also when an old temporary file had other bits
    os.replace(temporary, path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.devconfig")
    parser.add_argument("example", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        type=account_spec,
        default=[],
        metavar="NAME:COMMUNITY",
        help="write an [[accounts]] table for this account (repeatable)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.exists():
        if args.port is not None:
            changed = follow_port(out.read_text(encoding="utf-8"), args.port)
            if changed is not None:
                write_private(out, changed)
                print(f"{out}: public_url = {local_url(args.port)}", file=sys.stderr)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    example = args.example.read_text(encoding="utf-8")
    accounts = tuple(args.accounts)
    write_private(out, development_config(example, args.port or 5000, accounts))
    load_settings(out)  # refuse to leave a config behind that would not load
    served = ", ".join(f"/wechat/{name}" for name, _ in accounts) or "/wechat"
    print(f"wrote {out} (development mode, SQLite, plain mode, {served})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
