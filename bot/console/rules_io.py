"""分类规则 as files and as suggestions: export the TOML `rules export` writes, import a file
(a dry-run preview first, then apply; a bad file refused whole with its line and reason), and
keywords mined from confirmed tickets (what `rules suggest` does), adopted with one click."""

from __future__ import annotations

import re

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from bot.classify import RulesFileError, dump_rules, parse_rules
from bot.classify.edits import find_rule, with_rule
from bot.classify.evaluate import suggest
from models import ConsoleRole, RuleSpec, TopicSpec, load_specs, plan_sync, sync_topics

from .access import current_scope, requires
from .common import now, ok, problem, reading
from .rules_common import (
    ACTION_LABELS,
    TEXTS,
    FormProblem,
    bp,
    describe,
    editing,
    labeled_sample,
    may_edit_street,
    read_weight,
    save,
    street_only,
)

MAX_FILE_BYTES = 2 * 1024 * 1024
SUGGESTIONS_PER_TOPIC = 8


@bp.route("/export")
@requires(ConsoleRole.VIEWER)
def export() -> Response:
    """The TOML `yishiting rules export` writes, as a download."""
    with reading() as db:
        text = dump_rules(load_specs(db))
    name = f"rules-{now():%Y%m%d}.toml"
    return Response(
        text,
        mimetype="application/toml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/import")
@requires(ConsoleRole.ADMIN)
@street_only
def import_form() -> str:
    return render_template("console/rules_import.html", title="导入规则")


@bp.route("/import", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def import_rules() -> str | BaseResponse | tuple[str, int]:
    """A file uploaded: show what it would change. `content` with apply=1: change it."""
    if request.form.get("apply") == "1":
        text = request.form.get("content", "")
    else:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return _refuse("请选择要导入的规则文件（.toml）。")
        raw = upload.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return _refuse("文件太大（最多 2 MB）。")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse("文件不是 UTF-8 编码的文本。")
    try:
        specs = parse_rules(text)
    except RulesFileError as bad:
        where = f"第 {bad.line} 行：" if bad.line else ""
        return _refuse(f"{where}{reason_in_chinese(bad.reason)}", line=bad.line)
    if request.form.get("apply") == "1":
        with editing() as db:
            specs = parse_rules(text, _as_they_are(db))
            changes = sync_topics(db, specs, actor=current_user.username, now=now())
        ok(f"已导入：{len(changes)} 项更改。" if changes else "文件与现有规则相同，没有更改。")
        return redirect(url_for("console_rules.index"), code=303)
    with reading() as db:
        changes = plan_sync(db, parse_rules(text, _as_they_are(db)))
    return render_template(
        "console/rules_import.html",
        title="导入规则",
        preview=changes,
        content=text,
        topics=len(specs),
        action_labels=ACTION_LABELS,
        describe=describe,
    )


def _as_they_are(db: Session) -> dict[str, TopicSpec]:
    """The topics now, by name: what an imported file leaves out of a topic is kept."""
    return {spec.name: spec for spec in load_specs(db)}


def _refuse(message: str, line: int = 0) -> tuple[str, int]:
    """The import form again with the reason; nothing was changed."""
    body = render_template(
        "console/rules_import.html", title="导入规则", error=message, error_line=line
    )
    return body, 400


@bp.route("/suggestions")
@requires(ConsoleRole.VIEWER)
def suggestions() -> str:
    """Per topic, the words that best separate its confirmed tickets from the others."""
    with reading() as db:
        # A community's account learns from its own community's tickets only (read-only).
        items = labeled_sample(db, community_id=current_scope().community_id)
        specs = {s.name: s for s in load_specs(db)}
    found: list[tuple[TopicSpec, list[RuleSpec]]] = []
    for mined in suggest(items, SUGGESTIONS_PER_TOPIC * 2) if items else []:
        spec = specs.get(mined.name)
        if spec is None:
            continue
        new = [r for r in mined.rules if find_rule(spec, r.keyword) is None]
        if new:
            found.append((spec, new[:SUGGESTIONS_PER_TOPIC]))
    return render_template(
        "console/rules_suggestions.html",
        title="建议的关键词",
        found=found,
        sample=len(items),
        can_edit=may_edit_street(),
    )


@bp.route("/suggestions/adopt", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def adopt() -> BaseResponse:
    """Add a suggested keyword to its topic as a rule (audited like every change)."""
    back = redirect(url_for("console_rules.suggestions"), code=303)
    topic_name = request.form.get("topic", "")
    keyword = request.form.get("keyword", "").strip()
    try:
        if not keyword:
            raise FormProblem(TEXTS["keyword_missing"])
        weight = read_weight(request.form.get("weight", "1"))
    except FormProblem as why:
        problem(str(why))
        return back
    with editing() as db:
        spec = next((s for s in load_specs(db) if s.name == topic_name), None)
        if spec is None:
            problem(TEXTS["no_topic"])
            return back
        if (same := find_rule(spec, keyword)) is not None:
            problem(TEXTS["keyword_exists"].format(topic=spec.name, keyword=same.keyword))
            return back
        save(db, with_rule(spec, RuleSpec(keyword, weight)))
    ok(TEXTS["adopted"].format(keyword=keyword, topic=topic_name, weight=weight))
    return back


# The rules file reader explains problems in English (the CLI's language); admins at the
# console read them in Chinese. An unknown wording is shown as it is.
_REASONS = [
    (r"^not valid TOML: (.*)$", r"不是有效的 TOML 文件：\1"),
    (
        r"^unknown top-level key (.+) \(expected \[\[topic\]\]\)$",
        r"不认识的顶层键 \1（只能有 [[topic]]）",
    ),
    (r"^no \[\[topic\]\] tables$", "文件里没有任何 [[topic]] 分类"),
    (r"^a \[\[topic\]\] without a name$", "有一个 [[topic]] 没有填写 name"),
    (r"^topic (.+) twice$", r"分类 \1 出现了两次"),
    (r"^topic name (.+) is longer than 32 characters$", r"分类名称 \1 超过 32 个字"),
    (r"^topic name (.+) contains control characters$", r"分类名称 \1 含有控制字符"),
    (r"^topic (.+?), keyword (.+?): ", r"分类 \1 的关键词 \2："),
    (r"^topic (.+?): ", r"分类 \1："),
    (r"longer than 64 characters$", "超过 64 个字"),
    (r"contains control characters$", "含有控制字符"),
    (r"unknown key (.+)$", r"不认识的键 \1"),
    (
        r"weight must be a number above 0 and at most 100$",
        "weight（权重）须是大于 0、不超过 100 的数字",
    ),
    (r'kind must be "include" or "exclude"$', 'kind 须是 "include"（计分）或 "exclude"（否决）'),
    (r"(\w+) must be true or false$", r"\1 须是 true 或 false"),
    (r"sla_hours must be a positive whole number$", "sla_hours（处理时限）须是正整数"),
    (r"sort_order must be a whole number$", "sort_order（排序）须是整数"),
    (r"description must be text$", "description（说明）须是文字"),
    (r"rules must be a list of \{ keyword = \.\.\. \}$", "rules 须是 { keyword = ... } 的列表"),
    (r"each rule is \{ keyword = \.\.\. \}$", "每条规则须写成 { keyword = ... }"),
    (r"a rule without a keyword$", "有一条规则没有 keyword（关键词）"),
    (r"keyword (.+) repeats (.+)$", r"关键词 \1 与 \2 重复"),
]


def reason_in_chinese(reason: str) -> str:
    for pattern, replacement in _REASONS:
        reason = re.sub(pattern, replacement, reason)
    return reason


__all__ = ["adopt", "export", "import_rules", "reason_in_chinese", "suggestions"]
