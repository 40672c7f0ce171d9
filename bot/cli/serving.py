"""How `yishiting serve` runs waitress: the port is bound before anything else starts, and
SIGTERM or SIGINT (even when a background shell set SIGINT to be ignored) stops it cleanly —
the requests already received are answered, then the server closes."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import threading
import time
from types import FrameType
from typing import Any

import click
from waitress import wasyncore
from waitress.server import create_server

log = logging.getLogger(__name__)

# Each turn of the server's loop waits at most this long, so a stop is seen within it.
LOOP_SECONDS = 0.5
# After a stop: how long requests already received may take to be answered, and how long the
# connections must have been quiet (a request sent just before the stop is still read).
DRAIN_SECONDS = 15.0
QUIET_SECONDS = 0.3

PORT_IN_USE = (
    "端口 {port} 已被占用（{host}），议事厅没有启动。请换一个端口：make run PORT={other}"
    "（或 yishiting serve --port {other}）。"
    " / Port {port} on {host} is already in use; nothing was started. "
    "Choose another port: make run PORT={other} (or yishiting serve --port {other})."
)
CANNOT_LISTEN = (
    "无法在 {host} 的端口 {port} 上监听（{reason}），议事厅没有启动。"
    " / Cannot listen on {host} port {port} ({reason}); nothing was started."
)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts; a port that cannot be had is
    one line on stderr (Chinese, then English) and exit status 2."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        text = PORT_IN_USE if exc.errno == errno.EADDRINUSE else CANNOT_LISTEN
        reason = exc.strerror or type(exc).__name__
        click.echo(text.format(host=host, port=port, other=port + 1, reason=reason), err=True)
        raise SystemExit(2) from None
    return sock


class Server:
    """waitress on an already bound socket, run until `stop()` (or SIGTERM / SIGINT)."""

    def __init__(self, app: Any, sock: socket.socket, threads: int) -> None:
        self.stopping = threading.Event()
        self.server = create_server(
            app,
            sockets=[sock],
            threads=threads,
            ident="yishiting",
            # waitress would drop X-Forwarded-* itself; the app trusts exactly as many proxies
            # as [web] trusted_proxies says (ProxyFix in create_app), as under gunicorn.
            clear_untrusted_proxy_headers=False,
        )
        self.map: dict[int, Any] = self.server._map

    def stop_on_signals(self) -> None:
        """SIGTERM (systemd, `kill`) and SIGINT (Ctrl-C) stop the server. Installing a handler
        also undoes the SIG_IGN that a shell gives SIGINT in background jobs."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: stopping", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self) -> None:
        """Serve until stopped; then answer what was received, and close."""
        while not self.stopping.is_set():
            self._turn(LOOP_SECONDS)
        wasyncore.dispatcher.close(self.server)  # no new connections from here on
        self._drain()
        self.server.task_dispatcher.shutdown(timeout=DRAIN_SECONDS)
        wasyncore.close_all(self.map)

    def _turn(self, timeout: float) -> None:
        wasyncore.loop(
            timeout=timeout, map=self.map, use_poll=self.server.adj.asyncore_use_poll, count=1
        )

    def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_SECONDS
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            self._turn(0.05)
            if self._busy():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_SECONDS:
                return
        log.warning("stopping with requests still unanswered after %g s", DRAIN_SECONDS)

    def _busy(self) -> bool:
        tasks = self.server.task_dispatcher
        if tasks.active_count or tasks.queue:
            return True
        return any(
            getattr(channel, "request", None) is not None
            or getattr(channel, "requests", None)
            or getattr(channel, "total_outbufs_len", 0)
            for channel in list(self.map.values())
        )
