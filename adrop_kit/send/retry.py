"""How hard to try one event: the retry policy, one small settings object, and the one retry loop.

    RetryPolicy()                                  # the backfill default: 10 retries within 10 minutes
    RetryPolicy(retries=3, max_retry_time=60)      # a quick probe
    Sender(retry=RetryPolicy(timeout=5))

Shared by the `Sender`, the contract probe and the CLI (`--retries`, `--max-retry-time`,
`--timeout`), in the spirit of urllib3's `Retry` and httpx's `Timeout`. An event is retried
after a connection error, a timeout, a 429 or a 5xx, never after 400/401/413/415 (the
transport module classifies replies). It gives up after `retries` retries *or* once `max_retry_time`
seconds have passed since its first attempt, whichever comes first. Waits are "full jitter"
(uniform between 0 and an exponentially growing ceiling), so many workers that fail together
do not retry together; a server's `Retry-After` is honoured as long as it fits in the budget.
Each event has its own budget and its own thread: one giving up never holds back the others.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from adrop_kit.send.transport import Reply, Request, Transport, deliver


@dataclass(frozen=True)
class RetryPolicy:
    """Retries, back-off and timeouts for one event (see the module docstring)."""

    retries: int = 10
    """Retries after the first attempt (so at most `retries + 1` requests per event)."""
    max_retry_time: float = 600.0
    """Seconds from an event's first attempt after which no new attempt starts."""
    backoff: float = 0.25
    """Ceiling of the first wait, doubled at each retry (full jitter: the wait is uniform below it)."""
    max_backoff: float = 30.0
    """The ceiling stops growing here."""
    timeout: float = 10.0
    """Seconds one request may take in all: connect, send and every read of the reply (a total
    deadline, not a per-read timeout; a request past it is a retryable "timed out")."""

    def __post_init__(self) -> None:
        for name in ("max_retry_time", "backoff", "max_backoff", "timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"retries must be a whole number, 0 or more, not {self.retries!r}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, not {self.timeout}")
        if self.max_retry_time < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("max_retry_time, backoff and max_backoff must be 0 or more")

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with some settings changed (None values are ignored, as from optional CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def wait(self, attempt: int, retry_after: float | None, elapsed: float, rng: Any = random) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up.

        `attempt` is the number of attempts made so far, `elapsed` the seconds since the first.
        """
        if attempt > self.retries:
            return None
        remaining = self.max_retry_time - elapsed
        if retry_after is not None:  # the server said when: honour it if it fits in the budget
            return retry_after if retry_after <= remaining else None
        if remaining <= 0:
            return None
        return min(remaining, rng.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1))))


class Delivery(NamedTuple):
    """What one retried POST came to: the last reply, the attempts made, the longest single wait."""

    reply: Reply
    attempts: int
    longest_wait: float


def post_with_retries(transport: Transport, request: Request, policy: RetryPolicy, *, limiter: Any = None,
                      stop: threading.Event | None = None) -> Delivery:
    """POST until the reply is final or the policy gives up; `stop` ends a wait early.
    The one retry loop of the package (the sender and the contract probe both use it), over any
    transport object: each attempt is `deliver(transport, request)`."""
    attempt = 0
    longest = 0.0
    first = time.monotonic()
    while True:
        if limiter is not None:
            limiter.acquire(stop)
        attempt += 1
        reply = deliver(transport, request)
        if not reply.retryable:
            return Delivery(reply, attempt, longest)
        delay = policy.wait(attempt, reply.retry_after, time.monotonic() - first)
        if delay is None:
            return Delivery(reply, attempt, longest)
        longest = max(longest, delay)
        if stop is not None:
            if stop.wait(delay):
                return Delivery(reply, attempt, longest)
        else:
            time.sleep(delay)


__all__ = ["Delivery", "RetryPolicy", "post_with_retries"]
