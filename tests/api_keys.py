"""API keys for tests, made as `yishiting api-key create` makes them (models/api/keys.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from models.api.keys import SCOPES, create_key, parse_scopes

ALL = ",".join(SCOPES)


def make_key(
    app: Flask, scopes: str = ALL, *, name: str = "12345平台", community_id: int | None = None
) -> str:
    """A new key's secret, with `scopes` ("tickets:read,agenda:read"), in `community_id`."""
    db = app.extensions["yishiting"].db
    with db.session() as session:
        _, secret = create_key(
            session,
            name=name,
            scopes=parse_scopes(scopes),
            community_id=community_id,
            created_by="测试",
            now=datetime.now(UTC),
        )
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
