"""Building, unit and room numbers in residents' words (words/addresses.py): the usual forms,
and the traps — floors, dates, times, counts, money, phone numbers — that are no building."""

from __future__ import annotations

import pytest

from words import fold
from words.addresses import (
    address_mentions,
    home_building,
    spot_reason,
    spot_text,
    stands_alone,
)


def parts(text: str) -> list[tuple[str, str | None, str | None]]:
    return [(m.building, m.unit, m.room) for m in address_mentions(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3号楼电梯坏了", ("3", None, None)),
        ("3栋门口堆满了垃圾", ("3", None, None)),
        ("三栋的路灯不亮", ("3", None, None)),
        ("三号楼楼下有人吵", ("3", None, None)),
        ("3幢楼顶漏水", ("3", None, None)),
        ("第3栋的水管爆了", ("3", None, None)),
        ("3#楼门禁坏了", ("3", None, None)),
        ("3 号楼停电了", ("3", None, None)),
        ("３号楼停电了", ("3", None, None)),
        ("十二栋漏水", ("12", None, None)),
        ("十八号楼的电梯", ("18", None, None)),
        ("二十一栋", ("21", None, None)),
        ("3栋2单元楼道灯坏了", ("3", "2", None)),
        ("3号楼二单元门坏了", ("3", "2", None)),
        ("3-2-501家里漏水", ("3", "2", "501")),
        ("3号楼2单元501室楼上漏水", ("3", "2", "501")),
        ("3号楼2单元501漏水", ("3", "2", "501")),
        ("3栋2单元501", ("3", "2", "501")),
        ("3号楼501室", ("3", None, "501")),
        ("12号楼 300块钱的罚款", ("12", None, None)),
        ("2号楼3楼楼道", ("2", None, None)),
        ("3号楼的2单元门坏了", ("3", "2", None)),
        ("报修：4号楼601卫生间漏水", ("4", None, "601")),
        ("3号楼120来了都进不去", ("3", None, None)),  # the ambulance, not room 120
        ("小区门口的3号楼下有个坑", ("3", None, None)),
        ("今天13号，8号楼又停水了", ("8", None, None)),
        ("明天9号楼要停电吗", ("9", None, None)),
        ("去年2号楼就说要修的", ("2", None, None)),
        ("3号楼5楼漏水", ("3", None, None)),
        ("3栋2-501漏水", ("3", "2", "501")),
        ("3号楼2门501的空调滴水", ("3", "2", "501")),
        ("3号楼2门口有垃圾", ("3", None, None)),
    ],
)
def test_the_usual_forms_are_read(text: str, expected: tuple[str, str | None, str | None]) -> None:
    assert parts(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "我家住3楼，楼道灯坏了",
        "5楼楼道堆满了杂物",
        "我家3楼楼道灯坏了",
        "三楼有人装修",
        "3号停水，怎么没通知",
        "12月5号物业说来修",
        "12月3号楼下又停水了",
        "下午3点开始停电",
        "来了3个人修，还是没修好",
        "收了300块物业费",
        "电话13812345678",
        "打138-1234-5678",
        "2026-12-05开始的",
        "3单元门口有垃圾",
        "501漏水",
        "两栋楼之间的路灯坏了",
        "这三栋楼都停电了",
        "同一栋楼的人都知道",
        "一栋楼都停水了",
        "九座的车停在消防通道",
        "7座的商务车天天停在消防通道",
        "今天20号楼下还是没人扫",
        "昨天8号楼道里就没灯了",
        "3号、5号、8号楼都停电了",
        "3、5栋的楼道灯都坏了",
        "1到5号楼都停水了",
        "3至5号楼今晚停电",
        "2栋以上的楼都没有充电桩",
        "隔壁小区3号楼在施工",
        "对面小区的8栋晚上灯光太亮",
        "附近工地3号楼晚上还在浇混凝土",
        "中山路5号楼下的公交站",
        "B3栋的电梯",
        "3-501的空调滴水",
        "3号楼4号楼5号楼都停水了",
        "3号楼、5号楼都停电了",
        "开发商当年盖了3栋房子",
        "对面写字楼5栋的灯光照进卧室",
        "万科城2号楼那边的路口太堵",
        "旁边新建了5栋楼房",
        "上次3号楼漏水的事没人管，现在我们家也漏了",
    ],
)
def test_floors_dates_times_counts_money_and_phones_are_no_building(text: str) -> None:
    assert parts(text) == []


def test_each_mention_has_its_span_in_the_text_as_written() -> None:
    text = "你好，３号楼2单元电梯坏了"
    [mention] = address_mentions(text)
    assert text[mention.start : mention.end] == "３号楼2单元"


def test_a_home_named_in_passing_is_marked_so() -> None:
    first, second = address_mentions("我住1号楼，3号楼电梯坏了")
    assert (first.building, first.home) == ("1", True)
    assert (second.building, second.home) == ("3", False)


def test_a_building_said_not_to_be_the_one_is_no_mention() -> None:
    assert parts("不是3号楼，是5号楼的电梯坏了") == [("5", None, None)]


def test_a_way_between_two_buildings_names_both() -> None:
    assert parts("从2号楼到5号楼的路灯坏了") == [("2", None, None), ("5", None, None)]


def test_i_am_of_building_3_is_a_home() -> None:
    first, second = address_mentions("我是3号楼的，5号楼门口有垃圾")
    assert (first.building, first.home, second.home) == ("3", True, False)


@pytest.mark.parametrize(
    ("text", "name", "alone"),
    [
        ("东门口有人摆摊", "东门", True),
        ("小区东门的道闸坏了", "东门", True),
        ("快递车停在东门口", "东门", True),
        ("楼下广场有人遛狗", "广场", True),
        ("万达广场的停车场太贵", "广场", False),
        ("楼下跳广场舞太吵", "广场", False),
        ("广场舞的音箱太大声", "广场", False),
        ("隔壁小区的东门天天堵车", "东门", False),
        ("单元大门关不上", "大门", False),
        ("南门大街上的公交站", "南门", False),
        ("东门路口的红绿灯坏了", "东门", True),
        ("东门路灯不亮", "东门", True),
        ("请问地下车库的灯什么时候修", "地下车库", True),  # a longer name is a word by itself
    ],
)
def test_a_places_name_counts_only_as_a_word_of_its_own(text: str, name: str, alone: bool) -> None:
    folded = fold(text)
    start = folded.index(name)
    assert stands_alone(folded, start, start + len(name)) is alone


def test_how_a_spot_is_shown() -> None:
    assert home_building("1-2-501") == "1号楼"
    assert home_building("A-1-2-501") == "A-1"  # a building name with a dash
    assert spot_text("3号楼", "1-2-501") == "3号楼（居民住1号楼）"
    assert spot_text("3号楼", None) == "3号楼"
    assert spot_text(None, "1-2-501") == "1-2-501"
    assert spot_reason("3号楼", "text") == "从留言识别：3号楼"
    assert spot_reason("3号楼", "location") == "从位置消息：离3号楼最近"
