"""Running ``indexer serve``: bind the address, print the link with its access token, serve until Ctrl-C
or SIGTERM (uvicorn stops cleanly on both: requests in flight finish within GRACE_SECONDS, or are left;
a write is one transaction, never cut in half)."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
# Seconds a stop (Ctrl-C, SIGTERM) waits for the requests being answered; then it stops without them.
GRACE_SECONDS = 4
LOOPBACK = "127.0.0.1"


class CannotServe(IndexerError):
    """The address cannot be served (in use, not this machine's, a bad port)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port). CannotServe, in one line, when it cannot be
    had."""
    if not 0 <= port <= 65535:
        raise CannotServe(f"port {port} is not a port (0 to 65535; 0 picks a free one)")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise CannotServe(f"cannot serve on {host}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise CannotServe(f"cannot serve on {host}:{port}: {e.strerror}"
                          + (" (another program has it: choose another --port)" if e.errno == 98 else "")) from None
    sock.set_inheritable(True)
    return sock


def address_of(sock: socket.socket, host: str) -> str:
    """The address a browser opens for ``sock`` (bound for ``host``)."""
    port = sock.getsockname()[1]
    shown = host if host not in ("0.0.0.0", "::", "") else socket.gethostname()
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def serve(library: Library, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve ``library`` on ``host``:``port`` until stopped; ``announce`` gets the link to open (with the
    access token) once the address is bound."""
    import uvicorn

    from indexer.web.app import make_app

    token = secrets.token_urlsafe(24)
    sock = bind(host, port)
    hosts = ["127.0.0.1", "localhost", "::1", "[::1]", host.strip("[]"), host]
    if host in ("0.0.0.0", "::"):
        hosts = ["*"]  # every address of this machine: the token guards it (the warning said so)
    app = make_app(library, token, sorted(set(hosts)))
    threading.Thread(target=_prune, args=(app.state.served,), name="prune pictures", daemon=True).start()
    link = f"{address_of(sock, host)}/?token={token}"
    announce(link)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False,
                            timeout_graceful_shutdown=GRACE_SECONDS)
    try:
        _server_class()(config).run(sockets=[sock])
    finally:
        sock.close()
    _leave_stuck_requests()
    log.info("stopped")


def _leave_stuck_requests() -> None:
    """Stop now even when requests are still in their worker threads after the grace (a page reading a
    disk that stopped answering): Python would wait for those threads at exit, for ever. A write is one
    database transaction: cut off, it is rolled back whole."""
    stuck = [thread for thread in threading.enumerate()
             if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()]
    if stuck:
        log.warning("stopped with %d request(s) still unanswered after %d s", len(stuck), GRACE_SECONDS)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _prune(served) -> None:
    try:
        removed = served.prune_pictures()
    except Exception:
        log.warning("could not tidy the pictures folder", exc_info=True)
        return
    if removed:
        log.info("removed %d pictures of faces and photos no longer in the index", removed)


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, whose graceful stop on Ctrl-C or SIGTERM ends the command with status 0: uvicorn
        itself raises the signal again once stopped, and SIGTERM's default action then kills the process."""

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return Server
