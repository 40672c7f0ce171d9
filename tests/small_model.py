"""A small learned model for tests that need the classifier's fallback: trained on a few
labeled texts of eight topics, saved as the model in use as `yishiting model train` would."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from bot.classify import RuleBook
from bot.classify.evaluate import Labeled
from bot.classify.model import Model, train
from bot.db import Database
from models.learned import save_model

EXAMPLES = {
    "噪音扰民": [
        "楼下的狗天天叫，吵得睡不着",
        "隔壁每天半夜唱歌",
        "楼上小孩天天跑跳咚咚响",
        "广场舞音响太大声",
        "狗叫个不停没法休息",
    ],
    "电梯设施": [
        "电梯又坏了",
        "电梯门关不上",
        "电梯按钮失灵",
        "电梯经常停在半空",
        "电梯里灯不亮",
    ],
    "物业服务": [
        "物业不管事",
        "物业费收了不干活",
        "保安态度很差",
        "物业电话打不通",
        "门禁卡办不了",
    ],
    "环境卫生": [
        "垃圾没人清理",
        "楼道里很脏",
        "垃圾桶满了好几天",
        "绿化带里都是垃圾",
        "下水道臭气熏天",
    ],
    "停车交通": [
        "车位被人占了",
        "小区里乱停车",
        "外来车辆随便进",
        "停车费太贵",
        "充电桩不够用",
    ],
    "绿化园林": [
        "树枝挡住窗户",
        "草坪没人修剪",
        "落叶堆满路边",
        "树上有虫子",
        "绿地被种了菜",
    ],
    "水电气暖": [
        "又停水了",
        "家里跳闸停电",
        "暖气不热",
        "水压太低",
        "燃气开不了",
    ],
    "养老助老": [
        "独居老人没人照顾",
        "老年食堂在哪里",
        "高龄补贴怎么领",
        "想给老人申请上门服务",
        "老人走丢了",
    ],
}
# No rule matches it; the model is sure (噪音扰民, 77–89% as the model's features change).
BY_MODEL = "楼下的狗天天叫"
# No rule matches it; nor does the model know its words: its best is about 21% (of eight
# topics), far from sure.
NOBODY_SURE = "想报名参加合唱团"


@cache
def small_model() -> Model:
    return train([Labeled(text, label) for label, texts in EXAMPLES.items() for text in texts])


def use_model(db: Database, rulebook: RuleBook | None = None) -> None:
    """Save the small model as the one in use; `rulebook` reads it at once."""
    model = small_model()
    with db.session() as session:
        save_model(
            session,
            model.to_bytes(),
            now=datetime.now(UTC),
            by="test",
            examples=int(model.info["examples"]),
            confirmed=0,
            last_ticket_id=None,
        )
    if rulebook is not None:
        rulebook.refresh()
