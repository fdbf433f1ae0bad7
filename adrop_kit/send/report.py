"""`SendReport`: what happened to every event of a send."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from adrop_kit.io.html import html_table


class Outcome(StrEnum):
    """Where an event ends up: every event of a send ends in exactly one of these."""

    DELIVERED = "delivered"                  # the server said ok
    REJECTED = "rejected"                    # the server said !invalid (retrying cannot help)
    FAILED = "failed"                        # gave up: retries or the time budget spent, or a worker error
    SKIPPED = "skipped"                      # invalid locally, never sent
    ALREADY_DELIVERED = "already_delivered"  # delivered by an earlier run (the journal)
    PENDING = "pending"                      # not attempted: interrupted, or the run stopped (a refused key)
    DRY_RUN = "dry_run"                      # would have been sent


OUTCOMES = tuple(o.value for o in Outcome)
_TIMINGS = ("elapsed_s", "events_per_s", "longest_wait_s")


class EventOutcome(NamedTuple):
    """The fate of one row of a send."""

    row: int
    eventName: str | None  # noqa: N815 - the payload's own field name
    key: str | None
    outcome: str
    status: int | None
    attempts: int
    error: str | None
    source: str | None = None
    """The file the row is in, when the input had several (a directory, a glob, a list)."""


@dataclass
class SendReport:
    total: int
    outcomes: list[EventOutcome]
    elapsed_s: float
    source: str = "<data>"
    endpoint: str = ""
    dry_run: bool = False
    interrupted: bool = False
    aborted: str | None = None
    requests: list[str] = field(default_factory=list)
    retries: int = 0
    """Retries spent in this run (attempts beyond each event's first)."""
    longest_wait_s: float = 0.0
    """The longest single pause between two attempts of one event (back-off or Retry-After)."""
    journal_error: str | None = None
    """Why the journal could not be written, when that stopped the run (`aborted` says so too)."""

    def __post_init__(self) -> None:
        self.outcomes.sort(key=lambda o: (o.source or "", o.row))
        self._counts = Counter(o.outcome for o in self.outcomes)

    def count(self, outcome: str) -> int:
        return self._counts.get(outcome, 0)

    @property
    def delivered(self) -> int:
        return self.count("delivered")

    @property
    def rejected(self) -> int:
        return self.count("rejected")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def already_delivered(self) -> int:
        return self.count("already_delivered")

    @property
    def pending(self) -> int:
        return self.count("pending")

    @property
    def events_per_s(self) -> float:
        sent = self.delivered + self.rejected + self.failed
        return sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every valid event is delivered (now or earlier)."""
        return not (self.rejected or self.failed or self.pending or self.skipped)

    def summary(self) -> dict[str, Any]:
        s: dict[str, Any] = {"total": self.total, "delivered": self.delivered, "rejected": self.rejected,
                             "failed": self.failed, "skipped": self.skipped,
                             "already_delivered": self.already_delivered, "pending": self.pending,
                             "elapsed_s": round(self.elapsed_s, 3), "events_per_s": round(self.events_per_s, 1),
                             "retries": self.retries, "longest_wait_s": round(self.longest_wait_s, 3)}
        if self.dry_run:
            s["dry_run"] = self.count("dry_run")
        return s

    def table(self) -> Any:
        """Per-row outcomes as a polars DataFrame."""
        import polars as pl

        schema = {"row": pl.Int64, "eventName": pl.String, "key": pl.String, "outcome": pl.String,
                  "status": pl.Int64, "attempts": pl.Int64, "error": pl.String, "source": pl.String}
        df = pl.DataFrame([tuple(o) for o in self.outcomes], schema=schema, orient="row")
        return df if df.get_column("source").is_not_null().any() else df.drop("source")

    def problems(self) -> list[EventOutcome]:
        return [o for o in self.outcomes if o.outcome in ("rejected", "failed", "skipped", "pending")]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "endpoint": self.endpoint, "interrupted": self.interrupted,
                "aborted": self.aborted,
                "problems": [o._asdict() for o in self.problems()],
                **({"requests": self.requests} if self.dry_run else {})}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def __repr__(self) -> str:
        s = self.summary()
        parts = ", ".join(f"{k}={v}" for k, v in s.items() if k not in _TIMINGS and v)
        return f"<SendReport {parts} in {s['elapsed_s']}s>"

    def _repr_html_(self) -> str:
        s = self.summary()
        cells = "".join(f"<td style='padding:4px 10px'><b>{v:,}</b><br><span style='color:#666'>{k}</span></td>"
                        for k, v in s.items() if k not in _TIMINGS)
        problems = self.problems()[:20]
        return (f"<div><b>send to {html.escape(self.endpoint)}</b> — {s['events_per_s']:,} events/s in "
                f"{s['elapsed_s']} s<table><tr>{cells}</tr></table>"
                + (html_table(problems, EventOutcome._fields) if problems else "") + "</div>")
