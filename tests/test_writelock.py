"""Writers take turns on SQLite; a writer that waits too long gives up with DatabaseBusy."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import WeChat, inbound_count, make_app

from bot.config import Settings
from bot.writelock import DatabaseBusy, WriterQueue
from devtools.simulator import message_xml


def _hold_in_other_process(path: Path, seconds: float) -> int:
    """Fork a child that holds the file lock for `seconds`; return its pid."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: take the lock, say so, hold it, leave without cleanup
        fd = os.open(path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(ready_w, b"1")
        time.sleep(seconds)
        os._exit(0)
    os.read(ready_r, 1)
    return pid


def test_a_writer_in_another_process_is_waited_for(tmp_path: Path) -> None:
    lock = tmp_path / "db.writer-lock"
    pid = _hold_in_other_process(lock, 0.3)
    started = time.monotonic()
    with WriterQueue(str(lock), timeout=5).turn():
        waited = time.monotonic() - started
    os.waitpid(pid, 0)
    assert 0.2 < waited < 2


def test_the_main_thread_gives_up_after_the_timeout(tmp_path: Path) -> None:
    lock = tmp_path / "db.writer-lock"
    pid = _hold_in_other_process(lock, 3)
    started = time.monotonic()
    with pytest.raises(DatabaseBusy), WriterQueue(str(lock), timeout=0.3).turn():
        pass
    assert time.monotonic() - started < 2
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    with WriterQueue(str(lock), timeout=1).turn():  # and the turn is free again
        pass


def test_threads_of_one_process_take_turns_and_time_out(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db.writer-lock"), timeout=0.2)
    outcome: list[str] = []

    def second_writer() -> None:
        try:
            with queue.turn():
                outcome.append("got the turn")
        except DatabaseBusy:
            outcome.append("busy")

    with queue.turn():
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join()
    assert outcome == ["busy"]
    second_writer()
    assert outcome == ["busy", "got the turn"]


def test_a_database_busy_past_the_timeout_spools_the_message_and_stores_it_once(
    settings: Settings,
) -> None:
    quick = settings.replace(app={"db_busy_timeout_seconds": 0.2})
    app = make_app(quick)
    wechat = WeChat(app.test_client(), quick)
    writers = app.extensions["yishiting"].db._writers
    xml = message_xml("o_1", text="你好")
    with writers.turn():  # another writer holds the database
        response = wechat.post_xml(xml)
        assert inbound_count(quick) == 0
    assert response.status_code == 200  # kept in the spool (bot/spool.py), replayed later
    assert wechat.post_xml(xml).status_code == 200  # WeChat's redelivery is handled
    assert app.extensions["yishiting.spool"].replay() == 1  # the spooled copy: a duplicate
    assert inbound_count(quick) == 1
