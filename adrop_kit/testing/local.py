"""The local server for front ends and tests: one way to start it, one transport to reach it.

    server = local_server(catalog=catalog)              # in process: no socket, no uvicorn
    Sender(server.app_key, transport=local_transport(server))
    local_server(socket=True)                           # real HTTP on 127.0.0.1 (tests about HTTP)
    local_server(socket="on_demand")                    # in process until someone asks for its URL

The widgets, `run_contract`/`adrop-kit fuzz` without an endpoint, `adrop-kit demo` and the pytest
plugin all start their server here. In process, requests go through `ASGITransport` to the real
app (keys, limits, faults, SQLite, acknowledged only once committed); only the socket is missing.
"""

from __future__ import annotations

from typing import Any

from adrop_kit.send.asgi import ASGITransport
from adrop_kit.server.app import IN_PROCESS_URL, LocalServer


class OnDemandServer(LocalServer):
    """A `LocalServer` open in process that starts listening on a loopback socket the first time its
    `port` (so its `url` or `endpoint`) is asked for: an address handed out is always one that answers."""

    _port = 0
    _binding = False

    @property  # type: ignore[override]
    def port(self) -> int:
        if self.running and not self.listening and not self._binding:
            self._binding = True  # bind() reads the port it was asked for
            try:
                self.start()
            finally:
                self._binding = False
        return self._port

    @port.setter
    def port(self, value: int) -> None:
        self._port = value


def local_server(*, socket: bool | str = False, **options: Any) -> LocalServer:
    """A running `LocalServer(**options)`: in process (`open()`); with `socket=True` also on a loopback
    socket (`start()`); with `socket="on_demand"`, an `OnDemandServer`."""
    if socket not in (True, False, "on_demand"):
        raise ValueError(f"socket must be True, False or 'on_demand', not {socket!r}")
    server = (OnDemandServer if socket == "on_demand" else LocalServer)(**options)
    try:
        return server.start() if socket is True else server.open()
    except BaseException:
        server.close()
        raise


def local_transport(server: LocalServer) -> ASGITransport:
    """The in-process transport to `server`'s app (opening the server in process if it is not running).
    Its `endpoint` is the server's URL when it listens, else an in-process address nothing listens on."""
    server.open()
    endpoint = server.endpoint if server.listening else IN_PROCESS_URL + "/event"
    return ASGITransport(server.app, loop=server.loop, endpoint=endpoint)


__all__ = ["IN_PROCESS_URL", "OnDemandServer", "local_server", "local_transport"]
