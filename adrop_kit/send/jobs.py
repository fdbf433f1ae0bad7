"""What the Sender's workers share: a job (one event to send) and the state of one run; and what
both sends (one frame, `Sender.send_all`, and streamed, `send.stream`) tell about rows kept back."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adrop_kit.send.report import EventOutcome

if TYPE_CHECKING:
    import polars as pl


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


def reasons(violations: pl.DataFrame) -> pl.DataFrame:
    """(row, eventName, why) for each row of `violations`, in their order: every rule, field and
    message of the row joined by "; " (why a row was skipped or held back)."""
    import polars as pl

    why = pl.concat_str(pl.col("rule"), pl.lit(" "), pl.col("field"), pl.lit(": "), pl.col("message"))
    return violations.group_by("row", maintain_order=True).agg(pl.col("eventName").first(),
                                                               why.str.join("; ").alias("why"))


def held_warnings(violations: pl.DataFrame, hold: Any) -> pl.DataFrame:
    """The warnings among `violations` that `hold` (`hold_rules`: True, or rule ids) keeps back."""
    import polars as pl

    warned = violations.filter(pl.col("severity") == "warning")
    return warned if hold is True else warned.filter(pl.col("rule").is_in(sorted(hold)))
