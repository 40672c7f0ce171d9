"""议题 in figures: the pipeline on the 工作台 and the 街道看板 (by stage, the median days from
提议 to 立项 and to 完成, 满意率), and the annual report (`agenda report`, the console's
downloads) — on a fixed set of items (agenda_figures.py), texts as written, formulas kept text."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from agenda_figures import DECISION, FIRST, NOW, RESULT, seed
from click.testing import CliRunner, Result
from conftest import Clock, console_login, db_of, make_account, make_app
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import update

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import ConsoleAccount
from models.communities import add_community
from models.kpi_agenda import ALL, cells, pipeline, pipelines, street_rows
from words.agenda_report import PIPELINE_HEADERS, REPORT_HEADERS


def test_the_pipeline_of_each_community_comes_from_one_grouped_query(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    with db.session() as s:
        f = seed(s)
    with db.session(read_only=True) as s:
        found = pipelines(s, NOW)
        street = pipeline(s, NOW, ALL)
        table = [cells(name, figures) for name, figures in street_rows(s, NOW)]
    db.dispose()
    east, west, wide = found[f.east], found[f.west], found[None]
    assert {k: v for k, v in east.stages.items() if v} == {
        "done": 1, "deliberating": 1, "proposed": 1, "accepted": 1}  # fmt: skip
    # Residents' proposals only: #4, which an admin opened, waited for nobody.
    assert (east.days_to_accept, east.days_to_done) == (3.0, 30.0)  # median of 2 and 4 days
    assert (east.rated, east.satisfaction_rate) == (3, 2 / 3)
    assert (west.items, west.stages["declined"], west.days_to_accept, west.days_to_done) == (
        2, 1, 6.0, 20.0)  # fmt: skip
    assert west.satisfaction_rate == 1.0
    assert (wide.items, wide.days_to_accept, wide.satisfaction_rate) == (1, 8.0, None)
    assert (street.items, street.days_to_accept, street.days_to_done) == (7, 5.0, 25.0)
    assert street.satisfaction_rate == 0.75
    assert [row[0] for row in table] == ["本社区", "东湖社区", "西山社区", "全街道", "合计"]
    assert table[0] == ["本社区", 0, *[0] * 9, None, None, 0, None]  # no items: nothing made up
    assert len(table[1]) == len(PIPELINE_HEADERS)


def test_the_window_leaves_out_what_was_accepted_done_or_rated_long_ago(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    with db.session() as s:
        f = seed(s)
    with db.session(read_only=True) as s:
        later = pipelines(s, NOW.replace(year=2027, month=3, day=20))  # a year after T0+10d
    db.dispose()
    east = later[f.east]
    assert east.items == 4  # the stages are as they stand, whenever
    assert (east.days_to_accept, east.days_to_done, east.rated) == (None, 30.0, 3)


@pytest.fixture
def figures_app(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(backend_settings, clock=clock)
    clock.offset = NOW - datetime.now(UTC)  # the pages' now: 1 June 2026
    yield app
    db_of(app).dispose()


def signed_in(app: Flask, username: str, community: int | None = None) -> FlaskClient:
    make_account(app, username, "admin")
    if community is not None:
        with db_of(app).session() as session:
            session.execute(
                update(ConsoleAccount)
                .where(ConsoleAccount.username == username)
                .values(community_id=community)
            )
    client = app.test_client()
    assert console_login(client, username).status_code == 303
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_dashboards_show_the_pipeline_of_their_scope(figures_app: Flask) -> None:
    with db_of(figures_app).session() as s:
        f = seed(s)
    street = signed_in(figures_app, "street")
    page = street.get("/admin").get_data(as_text=True)
    section = _text(page.split('id="agenda-stages"', 1)[1].split('id="trend-chart"', 1)[0])
    assert "7 个" in _text(page) and "5.0 提议→立项" in section and "25.0 提议→完成" in section
    assert "75% 议题满意率" in section
    east = signed_in(figures_app, "east", f.east)
    own = _text(east.get("/admin").get_data(as_text=True))
    assert "共 4 个" in own and "3.0 提议→立项" in own and "67% 议题满意率" in own
    assert f"community={f.east}" in east.get("/admin").get_data(as_text=True)  # its report
    board = street.get("/admin/street").get_data(as_text=True)
    table = board.split('id="street-agenda"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr data-community=\"([^\"]+)\">(.*?)</tr>", table, re.S)
    cells_of = {name: re.findall(r"<td[^>]*>(.*?)</td>", body, re.S) for name, body in rows}
    assert cells_of["东湖社区"][1] == "4" and cells_of["东湖社区"][-3:] == ["30.0", "3", "66.7%"]
    assert cells_of["本社区"][-3:] == ["—", "0", "—"]
    assert cells_of["合计"][1] == "7"
    assert east.get("/admin/street").status_code == 403  # the street's page stays the street's


def test_the_street_workbook_carries_the_pipeline_on_a_second_sheet(figures_app: Flask) -> None:
    seed_app(figures_app)
    answer = signed_in(figures_app, "street").get("/admin/street.xlsx")
    book = load_workbook(io.BytesIO(answer.data))
    sheet = book["议题进展"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == PIPELINE_HEADERS
    total = rows[-1]
    assert total[0] == "合计" and total[1] == 7 and total[-1] == 0.75
    assert sheet.cell(row=len(rows), column=len(PIPELINE_HEADERS)).number_format == "0.0%"


def seed_app(app: Flask) -> None:
    with db_of(app).session() as s:
        seed(s)


# --- the annual report ----------------------------------------------------------------------


def agenda_report(config_path: Path, settings: Settings, *args: str) -> Result:
    env = {"YISHITING_APP_DATABASE_URL": settings.app.database_url}
    argv = ["agenda", "report", "--config", str(config_path), *args]
    return CliRunner().invoke(main, argv, env=env)


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_csv_report_holds_every_item_of_the_year_as_written(
    figures_app: Flask, backend_settings: Settings, config_path: Path, tmp_path: Path
) -> None:
    seed_app(figures_app)
    out = tmp_path / "agenda-2026.csv"
    result = agenda_report(config_path, backend_settings, "--year", "2026", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"7 议题 → {out}"
    rows = read_csv(out.read_bytes())
    assert list(rows[0]) == list(REPORT_HEADERS)
    assert [r["编号"] for r in rows] == [str(n) for n in range(1, 8)]
    first = rows[0]
    assert first["提议内容"] == FIRST + "\n具体位置可以再商量。"  # newlines kept
    assert first["标题"] == FIRST
    assert (first["社区"], first["阶段"], first["提出方"]) == ("东湖社区", "已完成", "居民提议")
    assert (first["提议日期"], first["立项日期"], first["完成日期"]) == (
        "2026-03-10", "2026-03-12", "2026-04-09")  # fmt: skip
    assert first["议事会（编号 日期 应邀/参加/请假）"] == "#1 2026-03-15 3/2/1"
    assert first["议事会结论"] == "同意提交表决"
    assert first["表决（编号 选票数 各选项票数）"] == "#1 3票 同意2 不同意1"
    assert first["表决决议"] == "同意安装"
    assert first["决定"] == "'" + DECISION  # the one change a CSV makes: no formula
    assert first["落实结果"] == RESULT
    assert first["落实责任人"] == "物业公司（王师傅负责）"
    assert (first["满意"], first["基本满意"], first["不满意"], first["满意率"]) == (
        "1", "1", "1", "66.7%")  # fmt: skip
    assert (first["异议数"], first["回头看（仍有效/未坚持）"]) == ("1", "1/0")
    third, fourth, fifth, seventh = rows[2], rows[3], rows[4], rows[6]
    assert third["提议内容"] == "'+86 热线太难打通" and third["附议数"] == "2"
    assert fourth["提出方"] == "李主任发起"
    assert fifth["不予立项理由"] == "涉及消防通道，无法开门" and fifth["满意率"] == ""
    assert seventh["社区"] == "全街道"
    assert "o_resident" not in out.read_text(encoding="utf-8")  # no resident named


def test_the_xlsx_report_keeps_every_text_a_text(
    figures_app: Flask, backend_settings: Settings, config_path: Path, tmp_path: Path
) -> None:
    seed_app(figures_app)
    out = tmp_path / "east.xlsx"
    args = ("--year", "2026", "--format", "xlsx", "-o", str(out), "--community", "东湖社区")
    result = agenda_report(config_path, backend_settings, *args)
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["2026年议题"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == REPORT_HEADERS
    assert [r[0] for r in rows[1:]] == [1, 2, 3, 4]  # 东湖's own: no 西山, no street's
    header = {name: n for n, name in enumerate(REPORT_HEADERS)}
    assert rows[1][header["决定"]] == DECISION  # exactly as written …
    decision = sheet.cell(row=2, column=header["决定"] + 1)
    assert decision.data_type == "s"  # … and a text, not a formula
    assert rows[3][header["提议内容"]] == "+86 热线太难打通"
    assert rows[1][header["满意率"]] == pytest.approx(2 / 3)
    assert rows[1][header["提议内容"]] == FIRST + "\n具体位置可以再商量。"


def test_the_report_goes_to_stdout_and_refuses_what_it_cannot_do(
    figures_app: Flask, backend_settings: Settings, config_path: Path, tmp_path: Path
) -> None:
    seed_app(figures_app)
    piped = agenda_report(config_path, backend_settings, "--year", "2026")
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"\xef\xbb\xbf")
    assert len(read_csv(piped.stdout_bytes)) == 7
    assert len(read_csv(agenda_report(config_path, backend_settings, "--year", "2025")
                        .stdout_bytes)) == 0  # fmt: skip
    unknown = agenda_report(config_path, backend_settings, "--year", "2026", "--community", "无")
    assert unknown.exit_code == 1 and "no community named '无'" in unknown.output
    nowhere = tmp_path / "missing" / "x.csv"
    failed = agenda_report(config_path, backend_settings, "--year", "2026", "-o", str(nowhere))
    assert failed.exit_code == 1 and "cannot write" in failed.output
    bad = agenda_report(config_path, backend_settings, "--year", "26")
    assert bad.exit_code == 1 and "2026" in bad.output


def test_the_console_downloads_the_accounts_own_report(figures_app: Flask) -> None:
    with db_of(figures_app).session() as s:
        f = seed(s)
    street = signed_in(figures_app, "street")
    answer = street.get("/admin/agenda/report.csv?year=2026")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="agenda-2026.csv"' in answer.headers["Content-Disposition"]
    assert len(read_csv(answer.data)) == 7
    one = street.get(f"/admin/agenda/report.xlsx?year=2026&community={f.west}")
    rows = list(load_workbook(io.BytesIO(one.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [5, 6]
    assert "agenda-2026-" in one.headers["Content-Disposition"]
    east = signed_in(figures_app, "east", f.east)
    own = read_csv(east.get("/admin/agenda/report.csv?year=2026").data)
    assert [r["编号"] for r in own] == ["1", "2", "3", "4"]
    assert east.get(f"/admin/agenda/report.csv?community={f.west}").status_code == 403
    assert street.get("/admin/agenda/report.csv?year=abc").status_code == 400
    assert street.get("/admin/agenda/report.csv?community=999").status_code == 404
    this_year = read_csv(street.get("/admin/agenda/report.csv").data)  # the clock's: 2026
    assert len(this_year) == 7


def test_the_street_exports_keep_a_formula_like_community_name_a_text(figures_app: Flask) -> None:
    """The street's exports went through openpyxl's append, which stores "=…" as a formula."""
    with db_of(figures_app).session() as s:
        add_community(s, "=1+1社区", NOW)
    street = signed_in(figures_app, "street")
    book = load_workbook(io.BytesIO(street.get("/admin/street.xlsx?month=2026-05").data))
    for sheet in book.worksheets:
        [cell] = [c for row in sheet.iter_rows() for c in row if c.value == "=1+1社区"]
        assert cell.data_type == "s"
    rows = read_csv(street.get("/admin/street.csv?month=2026-05").data)
    assert "'=1+1社区" in [row["社区"] for row in rows]
