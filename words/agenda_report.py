"""议题 in figures and in the annual report: the stage names, the pipeline's columns (工作台,
街道看板) and the annual report's columns (CSV, XLSX, CLI and console alike)."""

from __future__ import annotations

from .agenda import STAGE_NAMES

# A stage as the pipeline and the report name it: as the chat and the console do.
STAGE_LABELS = STAGE_NAMES

STREET_WIDE = "全街道"  # an item for every community (community NULL)
TOTAL = "合计"

# The street's 议题 table, one row per community: its head, in order.
PIPELINE_HEADERS = (
    "社区",
    "议题数",
    *STAGE_LABELS.values(),
    "提议→立项（中位天数）",
    "提议→完成（中位天数）",
    "评价数",
    "满意率",
)

# The annual report: (key, header) per column, in order. The keys are models/agenda_report.py's.
REPORT_COLUMNS = (
    ("number", "编号"),
    ("title", "标题"),
    ("community", "社区"),
    ("stage", "阶段"),
    ("body", "提议内容"),
    ("origin", "提出方"),
    ("proposed", "提议日期"),
    ("backing", "附议数"),
    ("backing_needed", "附议门槛"),
    ("accepted", "立项日期"),
    ("decline_reason", "不予立项理由"),
    ("meetings", "议事会（编号 日期 应邀/参加/请假）"),
    ("minutes", "议事会结论"),
    ("polls", "表决（编号 选票数 各选项票数）"),
    ("poll_decisions", "表决决议"),
    ("decision", "决定"),
    ("publicised", "公示日期"),
    ("objections", "异议数"),
    ("owner", "落实责任人"),
    ("due", "完成期限"),
    ("result", "落实结果"),
    ("done", "完成日期"),
    ("rating_1", "满意"),
    ("rating_2", "基本满意"),
    ("rating_3", "不满意"),
    ("satisfaction", "满意率"),
    ("review", "回头看（仍有效/未坚持）"),
)
REPORT_HEADERS = tuple(header for _, header in REPORT_COLUMNS)
REPORT_SHEET = "{year}年议题"  # the workbook's sheet

RESIDENT_ORIGIN = "居民提议"
ADMIN_ORIGIN = "{name}发起"
MEETING_CELL = "#{number} {date} {invited}/{attending}/{excused}"
POLL_CELL = "#{number} {ballots}票 {counts}"
OWNER_WITH_PARTY = "{party}（{staff}负责）"
REVIEW_CELL = "{held}/{not_held}"
JOIN = "；"  # between several meetings or polls in one cell
