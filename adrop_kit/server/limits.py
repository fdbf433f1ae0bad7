"""The local server's limits: body size (SPEC.md), and what a slow or greedy client may hold.

Every limit is enforced on the connection, not trusted to the client: the request (head and body)
must arrive within `read_timeout` seconds of its first byte, its head within `max_head_bytes`,
its body within `MAX_BODY` (413 while streaming, the rest unread); an idle keep-alive
connection is closed after `keep_alive` seconds; at most `max_connections` are served at once
(uvicorn's `limit_concurrency`: past it a request gets 503).
"""

from __future__ import annotations

from dataclasses import dataclass

from adrop_kit.spec.rules import MAX_EVENT_BYTES

MAX_BODY = MAX_EVENT_BYTES
"""The largest request body the server reads (64 KiB); a bigger one gets 413."""

MAX_OFFSET = 2**63 - 1
"""SQLite's largest integer: `/_local/events` refuses an offset or limit past it."""

MAX_PAGE = 10_000
"""The most events one `/_local/events` page returns."""


@dataclass(frozen=True)
class HttpLimits:
    """Connection limits of the local server (`LocalServer(limits=HttpLimits(...))`)."""

    read_timeout: float = 10.0      # seconds from a request's first byte to its last (slowloris)
    keep_alive: float = 15.0        # seconds an idle keep-alive connection is kept
    max_connections: int = 1000     # connections (and requests) served at once; past it: 503
    max_head_bytes: int = 16 * 1024  # request line + headers; past it: 431 and the connection closed
    graceful_timeout: float = 10.0  # on shutdown, how long in-flight requests may take to finish
    backlog: int = 1024

    def __post_init__(self) -> None:
        for name in ("read_timeout", "keep_alive", "graceful_timeout"):
            if not getattr(self, name) > 0:  # also refuses NaN
                raise ValueError(f"{name} must be more than 0")
        for name in ("max_connections", "max_head_bytes", "backlog"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
