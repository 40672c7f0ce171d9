"""Building, unit and room numbers in what residents write: 3号楼, 三栋, 3-2-501, 3栋2单元501.

`address_mentions(text)` finds them, pure and fast (one regular expression over the folded
text), each with its span in the text as written and its parts as ASCII digits ("3", "2",
"501"). It knows no community: whether a building 3 exists is models/spots.py's question.

What is NOT a building, on purpose (a wrong place routes to the wrong person):
- a floor: 我家住3楼, 5楼楼道 — "楼" straight after a number without 号/栋/幢/# is a floor;
- a date or a time: 3号停水, 12月3号楼下停水, 3点; a count or money: 3个人, 300块, 两栋楼之间;
- a phone number or a long number; a unit or a room without its building (3单元, 501);
- a day before "楼下/楼道…" after a day word (今天20号楼下: "today, the 20th, downstairs");
- several buildings at once (3、5栋, 1到5号楼, 3号、5号、8号楼): no one place is the problem's;
- a count with 以上/以下/左右 (2栋以上); seats (7座车);
- a building of another estate (隔壁小区3号楼, 对面小区的8栋, 对面写字楼5栋, 万科城2号楼).

`stands_alone(folded, start, end)` tells whether a place's name found inside a text is that
place (东门口, 在广场上) and not part of another word or another estate's (万达广场, 广场舞,
隔壁小区的东门).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .folding import fold

_DIGITS = "零〇一二两三四五六七八九"
_CN = f"[{_DIGITS}十百]"
# A number: ASCII digits (full-width ones are folded) or a Chinese numeral up to 999.
_NUM = rf"(?:\d{{1,3}}|{_CN}{{1,5}})"
# Not inside a longer number, not the day of a date (12月3号楼下 is "on the 3rd, downstairs"),
# not a count (这三栋楼, 几栋, 好几栋, 有3栋楼, 两栋楼), not a weekday (周三号楼下).
_BEFORE = (
    rf"(?=[\d{_DIGITS}十百第])"  # (fails fast where no number starts: most of a text)
    rf"(?<![\d{_DIGITS}十百月.\-#/这那几整好共每同另哪有周])(?<!星期)(?<!礼拜)(?<!\d[:：])"
    # B3栋 (another block's naming), 中山路5号楼 (a street address, not the 小区's building)
    r"(?<![A-Za-z路街巷弄])"
)
_SP = r"[ \t]?"
_BUILDING = (
    rf"{_BEFORE}(?P<prefix>第{_SP})?(?P<b>{_NUM}){_SP}"
    r"(?P<mark>号楼|号栋|栋楼?|幢楼?|#楼|座楼?)"
    # a count: 2栋以上, 3栋左右, 盖了3栋房子, 3栋别墅, 3栋楼房
    r"(?!以上|以下|以内|左右|上下|多栋|多幢|房|楼房|别墅|建筑|大楼|高楼|新楼|老楼)"
)
# The unit: 2单元; 2门 before a room (3号楼2门501, as Beijing writes it); 2- before a room
# (3栋2-501).
_UNIT = (
    rf"(?:[ \t,，、]|的)?(?P<u>\d{{1,2}}|{_CN}{{1,3}}){_SP}"
    r"(?:单元|门(?=[ \t]?\d{3,4}(?!\d))|-(?=\d{3,4}(?!\d)))"
)
_ROOM = r"[ \t,，、\-]?(?P<r>\d{3,4})(?!\d)(?:[ \t]?(?:室|号房|号|房))?"
# What may not follow a room number: a count, money, a length, a time, a year.
_NOT_ROOM = r"(?![ \t]?(?:块|元|个|人|米|平|斤|天(?!天)|次|分|点|年|月|日|岁|%|毫|多|w|万|k|路))"
# 110/119/120 followed by 来/到/车…: the police, firemen, an ambulance — not room 110.
_CALLED = re.compile(r"^(?:110|119|120|122)(?=[ \t]?(?:来|到|车|急|出|报|打|的车|救))")
_WORDY = re.compile(rf"{_BUILDING}(?:{_UNIT})?(?:{_ROOM}{_NOT_ROOM})?")
# 3-2-501: building-unit-room, each short, not part of a date (2026-12-05), a phone number
# (138-1234-5678) or a longer dash run.
_DASHED = re.compile(r"(?<![\d\-./:])(?P<b>\d{1,3})-(?P<u>\d{1,2})-(?P<r>\d{3,4})(?![\d\-./:])")
# "我住1号楼" / "我家在3栋": the writer's home named in passing, not (necessarily) the problem.
_HOME_BEFORE = re.compile(
    r"(?:住|住在|住的是|家在|家是|家住|我家|我是|我们是|本人是)[ \t]?(?:第)?$"
)
# "不是3号楼，是5号楼": a building named to say it is not the one.
_DENIED_BEFORE = re.compile(r"(?:不是|并非|不在|而非)[ \t]?(?:第)?$")
# Another estate's building or place: 隔壁小区3号楼, 对面小区的8栋, 旁边那个小区的东门.
_ELSEWHERE = re.compile(
    r"(?:隔壁|对面|旁边|附近|别的|其他|其它|另一个|另外一个|另外的|外面的?|人家|周边)"
    r"(?:那个|的|这个)?(?:小区|社区|楼盘|院子|大院|家属院|单位|学校|工地|商场|写字楼|大厦|医院"
    r"|公司|工厂|厂区|酒店|宾馆|商城|园区|新村)"
    r"[^，。,.!?！？；;\s]{0,4}$"
)
# A building named after another estate's or building's name: 万科城2号楼, 阳光花园3栋, XX大厦5座.
# (The 小区 writing to its own committee calls its buildings by number alone, or 小区里3号楼.)
_NAMED_BEFORE = re.compile(
    r"(?:城|苑|府|湾|邸|公寓|大厦|花园|家园|新村|华庭|商城|写字楼|医院|学校|公司|酒店)的?[ \t]?$"
)
# Several buildings at once: a list (3号、5号、8号楼, 3、5栋, 3号楼、5号楼) or a range whose first
# number stands bare (1到5号楼, 1号到5号楼, 3-5栋), or buildings one after another (3号楼4号楼);
# "从2号楼到5号楼" is a way between two.
_N = rf"(?:\d|[{_DIGITS}十])"
_LISTED_BEFORE = re.compile(
    rf"{_N}(?:号楼|号|栋|幢|#)?[ \t]?、[ \t]?$|{_N}号?[ \t]?(?:到|至|~|-|—)[ \t]?$"
    rf"|{_N}(?:号楼|栋|幢)[ \t]?$"  # 3号楼4号楼5号楼
)
_LISTED_AFTER = re.compile(
    rf"^[ \t]?(?:、[ \t]?第?{_N}|第?(?:\d{{1,3}}|{_CN}{{1,5}})[ \t]?(?:号楼|栋|幢))"
)
# "上次3号楼漏水…，现在我们家也漏了": a building of an earlier matter, the problem now elsewhere.
_PAST_BEFORE = re.compile(r"(?:上次|上回|上一次|之前|以前|去年|前年)[^，。,.!?！？；;]{0,3}$")
_NOW_AFTER = re.compile(r"[，。,.!?！？；;][^，。,.!?！？；;]{0,4}(?:这次|这回|现在|如今|今天)")
# A day before 楼下/楼上/楼道…: 今天20号楼下, 昨天3号楼道里 ("on the 20th, downstairs").
_DAY_WORD = re.compile(
    r"(?:今天|昨天|明天|前天|后天|那天|当天|这天|每天|本月|这个月|上个月|下个月|月底|月初|日子)"
    r"[ \t，,]?$"
)
_AFTER_DAY = frozenset("下上道里前后梯口")
# Seats, not a building: 7座车, 5座的车.
_SEATS_AFTER = re.compile(r"^(?:的)?(?:车|轿车|商务|越野|位|椅|SUV|suv)")


@dataclass(frozen=True)
class Mention:
    """A building (with its unit and room when given) named in a text."""

    start: int  # the span in the text as written
    end: int
    building: str  # "3" (Chinese numerals made digits: 十二 → "12")
    unit: str | None = None
    room: str | None = None
    home: bool = False  # written as where the writer lives (我住1号楼)


def address_mentions(text: str) -> list[Mention]:
    """Every building/unit/room named in `text`, in order."""
    folded = _folded(text)
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for match in _DASHED.finditer(folded):
        found.append(_mention(folded, match, match.group("b")))
        taken.append(match.span())
    for match in _WORDY.finditer(folded):
        if any(a < match.end() and match.start() < b for a, b in taken):
            continue
        building = _number(match.group("b"))
        if building is None or building == "0":
            continue
        if _is_count(match) or _not_ours(folded, match):
            continue
        if _DENIED_BEFORE.search(folded, max(0, match.start() - 4), match.start()):
            continue
        found.append(_mention(folded, match, building))
    found.sort(key=lambda m: m.start)
    return found


def _is_count(match: re.Match[str]) -> bool:
    """两栋楼 / 一栋楼: a number of buildings, not building 2 (两 is never a building's name;
    一栋楼/一幢楼 means "a whole building")."""
    raw = match.group("b")
    if match.group("mark").startswith("座") and not raw.isascii():
        return True  # 九座: seats; a 座 building is written with digits (3座)
    if match.group("prefix"):
        return False
    return raw.startswith("两") or (raw == "一" and match.group("mark") in ("栋楼", "幢楼"))


def _not_ours(folded: str, match: re.Match[str]) -> bool:
    """Whether a building-like match is a list or range of buildings, a date, seats, or a
    building of another estate."""
    start, end = match.start(), match.end()
    before = folded[max(0, start - 12) : start]
    if match.group("mark") in ("号楼", "号栋") and folded[end : end + 1] in _AFTER_DAY:
        if _DAY_WORD.search(before):
            return True
    if match.group("mark").startswith("座") and _SEATS_AFTER.match(folded[end : end + 3]):
        return True
    if _LISTED_BEFORE.search(before) or _LISTED_AFTER.match(folded[end : end + 8]):
        return True
    if _PAST_BEFORE.search(before) and _NOW_AFTER.search(folded, end):
        return True
    return _ELSEWHERE.search(before) is not None or _NAMED_BEFORE.search(before) is not None


def stands_alone(folded: str, start: int, end: int) -> bool:
    """Whether a place's name found at folded[start:end] names that place: not inside a longer
    word (万达广场, 跳广场舞) and not another estate's (隔壁小区的东门). A name of two characters
    must follow a particle, a direction or a verb (在广场, 小区东门, 到车库) or nothing; a longer
    one (地下车库, 中心广场) is a word by itself."""
    if start and end - start <= 2:
        char = folded[start - 1]
        if _is_han(char) and char not in _JOINS:
            return False
    if _NAME_GOES_ON.match(folded[end : end + 3]) and (end - start <= 2 or folded[end] == "舞"):
        return False
    return _ELSEWHERE.search(folded, max(0, start - 12), start) is None


# Characters that may stand before a place's name without making it part of another word:
# particles, prepositions, directions (在东门, 小区东门, 到地库, 楼下广场, 去车库).
_JOINS = frozenset(
    "在到去从的了是里区和跟与及把往向朝对近边面旁个那这上下前后左右中内外进出过经就都也还着呢吗啊呀吧"
    "有没被让给离靠挨要想说看找等停放堆摆占堵门口院期们咱走开关锁修扫绕守管用装拆建通回来"
    "问请查为或同比像连自由"
)
# What may not follow a place's name: 广场舞 is a dance; 东门路, 南门大街 are the city's streets
# (东门路口, 东门路边, 东门路灯 are still at the gate).
_NAME_GOES_ON = re.compile(r"^(?:舞|路(?![口边灯面上旁])|大街|大道|街(?!边|上))")


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _mention(folded: str, match: re.Match[str], building: str) -> Mention:
    unit = match.group("u") if "u" in match.re.groupindex else None
    room = match.group("r") if "r" in match.re.groupindex else None
    if room and match.re is _WORDY and _CALLED.match(folded[match.start("r") : match.end() + 3]):
        room = None
    home = _HOME_BEFORE.search(folded, max(0, match.start() - 4), match.start()) is not None
    return Mention(
        match.start(),
        match.end(),
        building,
        _number(unit) if unit else None,
        room,
        home,
    )


def _folded(text: str) -> str:
    """The text folded for matching, one character for one (spans hold for the original)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join(fold(c) or " " for c in text)  # an invisible character became nothing


def _number(raw: str) -> str | None:
    """ASCII digits for a number as written ("03" → "3", "十二" → "12"); None if malformed."""
    if raw.isascii():
        return str(int(raw)) if raw.isdigit() else None
    return _chinese(raw)


@lru_cache(maxsize=512)
def _chinese(raw: str) -> str | None:
    values = {c: i for i, c in enumerate("零一二三四五六七八九")}
    values.update({"〇": 0, "两": 2})
    total, digit = 0, None
    for char in raw:
        if char in "零〇" and total:
            continue  # 一百零八
        if char in values:
            if digit is not None:  # 十二三: two digits in a row is no number we read
                return None
            digit = values[char]
        elif char == "百":
            total += (digit if digit is not None else 1) * 100
            digit = None
        elif char == "十":
            total += (digit if digit is not None else 1) * 10
            digit = None
        else:
            return None
    total += digit or 0
    return str(total) if total else None


def building_label(name: str) -> str:
    """A building as people say it: "3" → "3号楼"; a name that is not a number as written."""
    return f"{name}号楼" if name.isascii() and name.isdigit() else name


def home_building(label: str) -> str:
    """The building of a home label ("1-2-501" → "1号楼"; names may hold dashes)."""
    parts = label.rsplit("-", 2)
    return building_label(parts[0]) if len(parts) == 3 else label


# Where a ticket's problem is, as the staff push and the console say it (Ticket.spot/place).
SPOT_WITH_HOME = "{spot}（居民住{home}）"
SPOT_FROM = {"text": "从留言识别：{spot}", "location": "从位置消息：离{spot}最近"}


def spot_text(spot: str | None, home: str | None) -> str:
    """3号楼（居民住1号楼）when the report named a place other than the resident's home, 3号楼
    when no home is known, else the home as ever (16-2-501); "" when neither is known."""
    if spot:
        return SPOT_WITH_HOME.format(spot=spot, home=home_building(home)) if home else spot
    return home or ""


def spot_reason(spot: str | None, spot_from: str | None) -> str:
    """Why the ticket is there: 从留言识别：3号楼 / 从位置消息：离3号楼最近 ("" for the home)."""
    if not spot or spot_from not in SPOT_FROM:
        return ""
    return SPOT_FROM[spot_from].format(spot=spot)
