"""What the Sender's workers share: a job (one event to send) and the state of one run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from adrop_kit.send.report import EventOutcome


@dataclass
class Job:
    index: int
    row: int
    key: str
    event_name: str | None
    body: bytes
    attempts_before: int = 0
    source: str | None = None  # the part file, when the input has several


@dataclass
class RunState:
    outcomes: list[EventOutcome | None]
    stop: threading.Event = field(default_factory=threading.Event)
    fatal: str | None = None
    journal_error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    longest_wait: float = 0.0


__all__ = ["Job", "RunState"]
