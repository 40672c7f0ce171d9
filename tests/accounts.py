"""Several Official Accounts in one deployment, for the tests: the accounts' config, the app
serving them (the `multi` and `multi_app` fixtures, registered in conftest.py) and `Account`,
WeChat's servers posting for one account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AES_KEY, Clock, db_of, make_app
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.config import Settings, load_settings
from devtools.simulator import Signer, message_xml

# Another valid EncodingAESKey: account b's messages cannot be read with a's.
AES_KEY_B = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
ACCOUNTS = {
    "a": {"community": "东社区", "token": "tokenA1", "app_id": "wx_a", "aes": AES_KEY},
    "b": {"community": "西社区", "token": "tokenB2", "app_id": "wx_b", "aes": AES_KEY_B},
    "street": {"community": "street", "token": "tokenS3", "app_id": "wx_s", "aes": ""},
}


def accounts_toml(api: str = "https://api.weixin.qq.com/", *, secrets: bool = False) -> str:
    """The [[accounts]] tables of ACCOUNTS (with app secrets: pushes go out for real)."""
    text = ""
    for name, values in ACCOUNTS.items():
        text += (
            f'[[accounts]]\nname = "{name}"\ncommunity = "{values["community"]}"\n'
            f'token = "{values["token"]}"\napp_id = "{values["app_id"]}"\n'
            f'encoding_aes_key = "{values["aes"]}"\napi_base_url = "{api}"\n'
            + (f'app_secret = "secret_{name}"\n' if secrets else "")
        )
    return text


def multi_config(folder: Path, api: str = "https://api.weixin.qq.com/", **kw: Any) -> Path:
    """A development config on the test's migrated database with three accounts."""
    path = folder / "accounts.toml"
    path.write_text(
        '[app]\ndatabase_url = "sqlite:///test.db"\nsecret_key = "s3cret-for-tests"\n'
        'mode = "development"\n' + accounts_toml(api, **kw),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def multi(config_path: Path) -> Settings:
    return load_settings(multi_config(config_path.parent), environ={})


@pytest.fixture
def multi_app(multi: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(multi, clock=clock)
    yield app
    db_of(app).dispose()


class Account:
    """WeChat's servers posting for one account: signed with its token, encrypted with its
    key, to a path of our choosing."""

    def __init__(self, client: FlaskClient, name: str) -> None:
        values = ACCOUNTS[name]
        self.client = client
        clock = client.application.extensions["yishiting"].conversation.clock
        self.signer = Signer(
            values["token"], values["aes"], values["app_id"], clock=lambda: clock().timestamp()
        )

    def post(self, path: str, openid: str, text: str) -> TestResponse:
        signed = self.signer.sign(message_xml(openid, text=text))
        return self.client.post(
            path, query_string=signed.query, data=signed.body, content_type="text/xml"
        )

    def say(self, path: str, openid: str, text: str) -> str | None:
        response = self.post(path, openid, text)
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.signer.read_reply(response.get_data())
