"""A token bucket shared by the workers of one run: at most `rate` events/s."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """A token bucket shared by the workers: at most `rate` events/s, bursts of one second's worth."""

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = 1.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            if stop is not None and stop.wait(wait):
                return
            if stop is None:
                time.sleep(wait)


__all__ = ["RateLimiter"]
