"""`LocalServer`: the local Adrop-compatible server, real HTTP on loopback, the same rules as `validate_event`.

Built from: `stack` (uvicorn + httptools, hardened), `asgi` (the app: `/event`, `/_local/*` in
`local_api`), `writer` (group commit: an event is acknowledged once committed), `store` (SQLite).
Replies are SPEC.md's; see `asgi`. Three ways to run it:

- `open()`: in this process, no socket: the app on a background loop (`loop.ServerLoop`), reached
  by an in-process transport (`ASGITransport(srv.app, loop=srv.loop)`; `adrop_kit.testing.local`
  builds it). What widgets, contract runs and the pytest plugin use: no port, no uvicorn.
- `start()` (or `with LocalServer() as srv`): the same, plus real HTTP on a loopback socket, uvicorn
  serving on that same loop (tests about HTTP, notebooks talking to a URL).
- `serve_forever()` in the main thread for `adrop-kit serve`, where SIGINT and SIGTERM stop
  accepting, let in-flight requests finish, flush, and return.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from adrop_kit.server.asgi import EventApp
from adrop_kit.server.faults import Faults
from adrop_kit.server.limits import MAX_BODY, HttpLimits
from adrop_kit.server.loop import ServerLoop
from adrop_kit.server.replies import OK
from adrop_kit.server.store import Store
from adrop_kit.server.writer import GroupCommitWriter
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.spec.hosts import is_loopback

if TYPE_CHECKING:
    import asyncio

    from adrop_kit.server.stack import Runner

IN_PROCESS_URL = "http://localhost"
"""The base URL requests to an in-process server are addressed to (nothing listens there)."""

__all__ = ["MAX_BODY", "OK", "Faults", "HttpLimits", "LocalServer"]


class LocalServer:
    """The local server, in a background thread: `with LocalServer() as srv: srv.url, srv.app_key`;
    or in process, without a socket: `srv.open()`, then a transport to `srv.app` on `srv.loop`.

    `/_local/*` needs an accepted app key or `admin_token` (generated per server) in `Authorization`.
    `limits` (an `HttpLimits`) sets timeouts and caps; `http` picks the parser: "auto" (httptools,
    else h11), "httptools" or "h11".
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, app_keys: list[str] | tuple[str, ...] = (),
                 db: str = ":memory:", catalog: Catalog | str | None = None, strict: bool = False,
                 faults: Faults | None = None, verbose: bool = False, limits: HttpLimits | None = None,
                 http: str = "auto"):
        self.host = host
        self.port = port
        self.generated_key = not app_keys
        self.app_keys = frozenset(app_keys) if app_keys else frozenset({"local-" + secrets.token_hex(12)})
        self.admin_token = "local-admin-" + secrets.token_hex(16)
        self.catalog = resolve(catalog)
        self.strict = strict
        self.faults = faults or Faults()
        self.verbose = verbose
        self.limits = limits or HttpLimits()
        if http not in ("auto", "httptools", "h11"):
            raise ValueError(f"http must be auto, httptools or h11, not {http!r}")
        self.http = http
        self.store = Store(db)
        self.writer: GroupCommitWriter | None = None
        self.allowed_hosts: frozenset[str] | None = None
        self.app = EventApp(self)
        self._runner: Runner | None = None
        self._loop: ServerLoop | None = None
        self._started = False
        self._closed = False

    @property
    def app_key(self) -> str:
        return next(iter(sorted(self.app_keys)))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.url + "/event"

    @property
    def running(self) -> bool:
        """Open in process or serving a socket in the background (and not closed)."""
        return self._loop is not None

    @property
    def listening(self) -> bool:
        """Bound to a socket (`bind()`/`start()`), not only open in process."""
        return self._runner is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the app runs on (`open()` starts it): what an in-process transport submits to."""
        if self._loop is None:
            raise RuntimeError("this LocalServer is not running: open() or start() it first")
        return self._loop.loop

    def _hosts(self) -> frozenset[str] | None:
        """The Host values `/_local/*` answers: this loopback host:port by any of its names."""
        if not is_loopback(self.host):
            return None  # bound off loopback on purpose
        own = f"[{self.host}]" if ":" in self.host else self.host
        names = {"localhost", "127.0.0.1", "[::1]", own.lower()}
        return frozenset({f"{n}:{self.port}" for n in names} | (names if self.port == 80 else set()))

    def bind(self) -> LocalServer:
        """Open the listening socket (port 0 picks a free one); `OSError` if the port is taken."""
        if self._closed:
            raise RuntimeError("this LocalServer is closed")
        if self._runner is None:
            from adrop_kit.server.stack import Runner, listen  # uvicorn: only for a socket

            sock = listen(self.host, self.port, self.limits.backlog)
            try:
                self._runner = Runner(self.app, sock, self.limits, verbose=self.verbose, http=self.http)
            except BaseException:
                sock.close()
                raise
            self.port = sock.getsockname()[1]
            self.allowed_hosts = self._hosts()
        return self

    def open(self) -> LocalServer:
        """Run the app in this process, on a background loop, without a socket (idempotent): an
        in-process transport reaches it (`adrop_kit.testing.local.local_transport`)."""
        if self._closed:
            raise RuntimeError("this LocalServer is closed")
        if self.writer is None:
            self.writer = GroupCommitWriter(self.store)
        if self._loop is None:
            self._loop = ServerLoop()
        if self._runner is None and self.allowed_hosts is None:  # in process only: the address it is given
            self.allowed_hosts = frozenset({IN_PROCESS_URL.split("//")[1]})
        return self

    def _ready(self) -> Runner:
        self.bind()
        if self.writer is None:
            self.writer = GroupCommitWriter(self.store)
        self._started = True
        assert self._runner is not None
        return self._runner

    def start(self) -> LocalServer:
        """Serve real HTTP on the socket (`bind()`), in the background, on the same loop as `open()`."""
        if self._started:
            return self
        try:
            runner = self._ready()
            self.open()
            assert self._loop is not None
            runner.start(self._loop)
        except BaseException:
            self.close()
            raise
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT/SIGTERM (what `adrop-kit serve` uses): then stop accepting,
        finish in-flight requests, flush and close. A SIGINT is re-raised as KeyboardInterrupt."""
        if self._loop is not None:
            raise RuntimeError("this LocalServer already runs in the background")
        runner = self._ready()
        try:
            runner.run()
        finally:
            self.close()

    def stop(self) -> None:
        """Stop serving: no new connections, in-flight requests finish (`limits.graceful_timeout`)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._started:
            self._started = False
            runner.stop(timeout=self.limits.graceful_timeout + 5)  # the runner closes its socket
        else:
            runner.sock.close()  # bound, never served

    def close(self) -> None:
        """Stop, commit whatever is pending, close the database."""
        self.stop()
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.close()  # in-process requests still in flight are cancelled: never acknowledged
        if not self._closed:
            self._closed = True
            if self.writer is not None:
                self.writer.close()
            self.store.close()

    def __enter__(self) -> LocalServer:
        """Start (on a socket) unless already running: an `open()` server stays in process."""
        return self if self.running else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- inspection (same data as the /_local endpoints; every acknowledged event is there) --------
    def stats(self) -> dict[str, int]:
        return self.store.stats()

    def events(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        return self.store.events(status, limit=limit, offset=offset)

    def reset(self) -> None:
        self.store.reset()

    def __repr__(self) -> str:
        where = self.url if self.listening or self._loop is None else "in process"
        return f"<LocalServer {where} keys={len(self.app_keys)}>"
