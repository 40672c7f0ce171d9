"""工作台's 自动分类 table: of the tickets filed in the last days, how many the rules put under
a topic, how many the learned model did (the rules unsure), and how many nobody could (the
resident was asked) — and how many of each a person has confirmed or changed since.

One aggregate query over the tickets filed in the window (Ticket.topic_by, Ticket.unsure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import Ticket
from models.kpi import of_community

DAYS = 7

# The table's rows, in this order: (key, what the row counts, a hint).
KINDS = (
    ("rules", "规则确定", "关键词规则有把握，直接归类"),
    ("model", "模型判断", "规则不确定，由模型归类"),
    ("asked", "不确定，请居民选择", "自动分类不确定：请居民选择，或由工作人员分类"),
    ("off", "类别未启用", "自动分出的类别在该社区未启用，进入待分派"),
)


@dataclass(frozen=True)
class FiledBy:
    key: str
    name: str
    hint: str
    tickets: int
    share: float  # of all filed in the window
    confirmed: int  # a person has chosen, confirmed or changed the topic since


def filed_by(db: Session, since: datetime, community_id: int | None = None) -> list[FiledBy]:
    """Each way a topic was set at filing, for tickets filed since `since` (rows with none
    are left out, except the rules' and the model's)."""
    confirmed = func.sum(case((Ticket.topic_confirmed, 1), else_=0))
    rows = db.execute(
        select(Ticket.topic_by, Ticket.unsure, func.count(), confirmed)
        .where(Ticket.created_at >= since, *of_community(community_id))
        .group_by(Ticket.topic_by, Ticket.unsure)
    ).all()
    counts: dict[str, list[int]] = {key: [0, 0] for key, _, _ in KINDS}
    for by, unsure, tickets, sure in rows:
        key = by if by in ("rules", "model") else "asked" if unsure else "off"
        counts[key][0] += int(tickets)
        counts[key][1] += int(sure or 0)
    total = sum(n for n, _ in counts.values())
    return [
        FiledBy(
            key,
            name,
            hint,
            counts[key][0],
            counts[key][0] / total if total else 0.0,
            counts[key][1],
        )
        for key, name, hint in KINDS
        if counts[key][0] or key in ("rules", "model")
    ]
