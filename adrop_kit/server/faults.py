"""Fault injection for testing senders: 503s, 429s with Retry-After, dropped connections, latency."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Fault injection for testing senders; rates are probabilities per POST /event."""

    fail_rate: float = 0.0      # 503
    throttle_rate: float = 0.0  # 429 with Retry-After
    drop_rate: float = 0.0      # close the connection without a reply
    latency_ms: float = 0.0
    retry_after: float = 1.0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not (self.latency_ms >= 0 and self.retry_after >= 0):  # also refuses NaN
            raise ValueError("latency and retry_after must be 0 or more")
        for name in ("fail_rate", "throttle_rate", "drop_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {v}")
        if self.fail_rate + self.throttle_rate + self.drop_rate > 1.0:
            raise ValueError("fail_rate + throttle_rate + drop_rate must not exceed 1")
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        """"drop", "fail", "throttle" or None (serve the request), drawn from the seeded generator."""
        if not (self.fail_rate or self.throttle_rate or self.drop_rate):
            return None
        with self._lock:
            x = self._rng.random()
        if x < self.drop_rate:
            return "drop"
        if x < self.drop_rate + self.fail_rate:
            return "fail"
        if x < self.drop_rate + self.fail_rate + self.throttle_rate:
            return "throttle"
        return None
