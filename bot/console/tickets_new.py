"""代居民登记: GET/POST /admin/tickets/new (staff) — a resident phoned, walked in, or a
网格员 met the problem on patrol; staff take it down and it goes through the one intake, as
`yishiting tickets file` does (bot/filing.py). After filing, the ticket's page.

The form has the channel, the resident's phone, the building and what they said. A phone
bound to one resident files it for them (they get the pushes); otherwise the ticket keeps
the phone and its page says 电话回访.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from models import ConsoleRole
from models.intake import Intake, Outcome
from models.onbehalf import STAFF_CHANNELS, OnBehalf, OnBehalfError
from words.channels import CHANNEL_NAMES, ON_BEHALF_ERRORS

from ..filing import file_on_behalf
from .access import requires
from .common import now, ok, problem, reading, writing, ys
from .scope import chosen_community, communities_shown

MAX_TEXT = 1000
# Which form field each refusal is about (the rest are shown above the form).
FIELD_OF = {
    "bad_channel": "channel",
    "empty_text": "text",
    "bad_phone": "phone",
    "no_contact": "phone",
    "unknown_building": "building",
}
TEXTS = {
    "filed": "已代居民登记诉求 #{number}。",
    "filed_unsure": "已代居民登记诉求 #{number}，暂未能自动分类，已进入待分类队列。",
    "same_again": "这位居民刚刚反映过同样的问题，未重复登记：见诉求 #{number}。",
    "supported": "邻居已反映过同样的问题，已作为附议记入诉求 #{number}。",
    "too_many": "这位居民已有 {count} 件诉求未办结（{numbers}），请先办结后再登记。",
    "too_long": "内容太长了，请控制在 {limit} 字以内。",
    "not_staff": "您账号关联的微信身份不是社区工作人员，不能代居民登记。",
    "no_community": "请选择诉求所属的社区。",
}
MESSAGES = {
    Outcome.FILED: "filed",
    Outcome.UNSURE: "filed_unsure",
    Outcome.SAME_AGAIN: "same_again",
    Outcome.SUPPORTED: "supported",
    Outcome.SUPPORTED_AGAIN: "supported",
}


def _page(values: dict[str, str], errors: dict[str, str], status: int) -> tuple[str, int]:
    with reading() as db:
        communities = communities_shown(db)
    page = render_template(
        "console/ticket_new.html",
        title="代居民登记",
        values=values,
        errors=errors,
        channels=[(c, CHANNEL_NAMES[c]) for c in STAFF_CHANNELS],
        max_text=MAX_TEXT,
        communities=communities,
    )
    return page, status


@requires(ConsoleRole.STAFF)
def new() -> Response | tuple[str, int]:
    """The form; on POST, file the report and show the ticket."""
    fields = ("channel", "phone", "building", "text", "community")
    values = {name: (request.form.get(name) or "") for name in fields}
    if request.method == "GET":
        return _page({**values, "channel": "phone"}, {}, 200)
    if len(values["text"]) > MAX_TEXT:
        return _page(values, {"text": TEXTS["too_long"].format(limit=MAX_TEXT)}, 400)
    with reading() as db:
        # A community account files into its own community; the street chooses one (with
        # one community there is nothing to choose: intake's default, as before).
        community_id = chosen_community(db, values["community"])
        if community_id is None and communities_shown(db):
            return _page(values, {"community": TEXTS["no_community"]}, 400)
    request_ = OnBehalf(
        channel=values["channel"],
        text=values["text"],
        now=now(),
        filed_by=current_user.person_id,
        phone=values["phone"],
        building=values["building"],
        community_id=community_id,
    )
    app = ys()
    try:
        with writing() as db:
            result = file_on_behalf(
                db,
                request_,
                app.settings,
                app.rulebook,  # the rules of the community the ticket is in
                recorder=current_user.display_name,
            )
    except OnBehalfError as exc:
        if exc.reason == "not_staff":
            return _page(values, {"form": TEXTS["not_staff"]}, 403)
        message = ON_BEHALF_ERRORS[exc.reason][0].format(value=exc.value)
        return _page(values, {FIELD_OF.get(exc.reason, "form"): message}, 400)
    return _shown(result)


def _shown(result: Intake) -> Response:
    if result.outcome is Outcome.TOO_MANY_OPEN:
        numbers = "、".join(f"#{n}" for n in result.open_numbers)
        problem(TEXTS["too_many"].format(count=result.open_count, numbers=numbers))
        return redirect(url_for("console_tickets.new"), code=303)
    ok(TEXTS[MESSAGES[result.outcome]].format(number=result.number))
    return redirect(url_for("console_tickets.show", number=result.number), code=303)
