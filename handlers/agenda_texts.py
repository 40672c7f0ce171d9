"""What residents and staff read in the 议 cycle's chat (议题, 附议, 议事会, 公示, 落实, 评议).

One section per stage; the pushes' words are in bot/delivery/agenda.py.
"""

# -- 提议 · 附议 · 议题 (handlers/agenda.py) ----------------------------------------------------


# -- 议事会: 参加 / 请假 (handlers/meetings.py) ------------------------------------------------


# -- 公示: 异议 (handlers/publicity.py) ---------------------------------------------------------


# -- 落实 · 评议 · 回头看 (handlers/carrying.py) ------------------------------------------------
