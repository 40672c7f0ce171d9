"""The 提议 hint on a ticket that reads like a proposal, on every path a resident reads the
reply: here a street account's resident who must first say which community is theirs."""

from __future__ import annotations

from datetime import UTC, datetime

from accounts import Account
from conftest import db_of
from flask import Flask

from handlers.agenda_texts import PROPOSAL_HINT
from models.communities import add_community

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def test_the_hint_follows_the_report_once_the_community_is_chosen(multi_app: Flask) -> None:
    with db_of(multi_app).session() as session:
        for name in ("东社区", "西社区"):
            add_community(session, name, NOW)
    hall = Account(multi_app.test_client(), "street")
    asked = hall.say("/wechat/street", "o_new", "建议在小区门口增设一个公交站牌")
    assert asked is not None and PROPOSAL_HINT not in asked  # nothing filed yet
    filed = hall.say("/wechat/street", "o_new", "3")
    assert filed is not None and filed.startswith("好的，已记下您是西社区的居民。")
    assert "编号 #1" in filed and filed.endswith(PROPOSAL_HINT)
    assert filed.count(PROPOSAL_HINT) == 1
