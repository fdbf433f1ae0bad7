"""The per-batch planner: what becomes of each row of a checked batch, before anything is sent.

Every dataset send runs it, whatever its size or engine: a frame or a file read whole (one batch),
a streamed input (batch by batch, `send.stream`) and each chunk of a Spark partition
(`adrop_kit.spark.send`). Given a batch's rows and its violations it decides each row's job:

    an error                       → SKIPPED (never sent)
    a warning `hold_warnings=` names → HELD (not sent, not journaled: a run without it sends them)
    settled by an earlier run      → ALREADY_DELIVERED, or REJECTED (the `Resume` says so)
    a dry run                      → DRY_RUN (what a real run would send)
    else                           → a `Job`: the body to send, under its event key

`Resume` is the one way a send learns what earlier runs settled: the SQLite journal
(`send.journal.Journal`) is one, Spark's `previous=` outcomes table another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from adrop_kit.io.frames import BAD, ERROR, RAW, ROW, to_payloads
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.send.journal import event_key
from adrop_kit.send.outcome import EventOutcome, Outcome
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import Rule

_EVENT_CODE = "__ev"  # the event code `check_batch` adds (validate.checks.EVENT_CODE)
_WHY = {"row": pl.Int64, "eventName": pl.String, "why": pl.String}


@dataclass
class Job:
    """One event to send: its row, its journal key, its body, and the attempts earlier runs spent."""

    index: int
    row: int
    key: str
    event_name: str | None
    body: bytes
    attempts_before: int = 0
    source: str | None = None  # the part file, when the input has several


class Resume(Protocol):
    """What earlier runs settled: `known(jobs)` maps the key of each job an earlier run delivered
    or had rejected to (`Outcome` value, attempts spent); the others are absent (to be sent)."""

    label: str
    """How a report names it ("journal", "previous")."""

    def known(self, jobs: Sequence[Job]) -> Mapping[str, tuple[str, int]]: ...


@dataclass
class BatchPlan:
    """A batch's rows by job: `settled` (their outcome is known without sending), `jobs` (to send),
    and, in a dry run, `would_send` (the jobs a real run would have sent, for the preview)."""

    settled: list[EventOutcome] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    would_send: list[Job] = field(default_factory=list)
    custom: dict[str, int] = field(default_factory=dict)
    """The rows that go out as custom events (W101, or W110 not held; neither skipped nor held), by eventName."""


def plan_batch(df: pl.DataFrame, violations: pl.DataFrame, *, catalog: Catalog, extra_columns: Sequence[str],
               hold: frozenset[str] | bool = frozenset(), source: str | None = None, resume: Resume | None = None,
               dry_run: bool = False) -> BatchPlan:
    """Each row of a checked batch (`df`, the canonical frame; `violations`, every rule's findings on
    it, W107 included when held) planned: see the module docstring. `source` names the rows' file
    when the input has several (it is part of their event key); `hold` is `report.hold_rules`'s."""
    plan = BatchPlan()
    ok = df
    if violations.height:  # (most batches of tiny part files have none: no plan to build)
        skipped = reasons(violations.filter(pl.col("severity") == "error"))
        bad = skipped.get_column("row")
        held = (reasons(held_warnings(violations, hold).filter(~pl.col("row").is_in(bad.implode()))) if hold
                else pl.DataFrame(schema=_WHY))
        plan.custom = custom_events(violations, pl.concat([bad, held.get_column("row")]))
        for outcome, rows in ((Outcome.SKIPPED, skipped), (Outcome.HELD, held)):
            plan.settled += [EventOutcome(r, ev, None, outcome, None, 0, why, source)
                             for r, ev, why in rows.iter_rows()]
        ok = df.filter(~pl.col(ROW).is_in(pl.concat([bad, held.get_column("row")]).implode()))
    drop = [c for c in ok.columns if c in (ERROR, RAW, _EVENT_CODE)
            or (c.startswith(BAD) and ok.get_column(c).null_count() == ok.height)]
    jobs = [Job(i, row, event_key(p, row, source), p.get("eventName") if isinstance(p.get("eventName"), str) else None,
                dumps_payload(p), source=source)
            for i, (row, p) in enumerate(to_payloads(ok.drop(drop), catalog, extra_columns=extra_columns))]
    known = resume.known(jobs) if resume is not None and jobs else {}
    for j in jobs:
        status, attempts = known.get(j.key, (None, 0))
        if status == Outcome.DELIVERED:
            plan.settled.append(EventOutcome(j.row, j.event_name, j.key, Outcome.ALREADY_DELIVERED, None, attempts,
                                             None, source))
        elif status == Outcome.REJECTED:
            plan.settled.append(EventOutcome(j.row, j.event_name, j.key, Outcome.REJECTED, None, attempts,
                                             f"rejected in an earlier run ({resume.label})", source))
        elif dry_run:
            plan.would_send.append(j)
            plan.settled.append(EventOutcome(j.row, j.event_name, j.key, Outcome.DRY_RUN, None, 0, None, source))
        else:
            j.attempts_before = attempts
            j.index = len(plan.jobs)
            plan.jobs.append(j)
    return plan


def custom_events(violations: pl.DataFrame, kept: pl.Series) -> dict[str, int]:
    """Rows by eventName of a batch's W101 and W110 warnings whose row is not in `kept` (skipped or held
    rows): the events that go out as custom events."""
    w101 = violations.filter(pl.col("rule").is_in([Rule.W101.value, Rule.W110.value])
                             & (pl.col("severity") == "warning")
                             & ~pl.col("row").is_in(kept.implode()))
    if not w101.height:
        return {}
    return dict(w101.group_by("eventName").agg(pl.col("row").n_unique()).iter_rows())


def reasons(violations: pl.DataFrame) -> pl.DataFrame:
    """(row, eventName, why) for each row of `violations`, in their order: every rule, field and
    message of the row joined by "; " (why a row was skipped or held back)."""
    field_ = pl.when(pl.col("field") == "").then(pl.lit("")).otherwise(pl.lit(" ") + pl.col("field"))
    why = pl.concat_str(pl.col("rule"), field_, pl.lit(": "), pl.col("message"))
    return violations.group_by("row", maintain_order=True).agg(pl.col("eventName").first(),
                                                               why.str.join("; ").alias("why"))


def held_warnings(violations: pl.DataFrame, hold: Any) -> pl.DataFrame:
    """The warnings among `violations` that `hold` (`hold_rules`: True, or rule ids) keeps back."""
    warned = violations.filter(pl.col("severity") == "warning")
    return warned if hold is True else warned.filter(pl.col("rule").is_in(sorted(hold)))


def unreadable(df: pl.DataFrame) -> pl.DataFrame:
    """The E001 violations of a batch that is not validated (`validate=False`): its rows that are no
    JSON object or too big to send (the server would answer 400 or 413), nothing else."""
    return df.filter(pl.col(ERROR).is_not_null()).select(
        pl.col(ROW).alias("row"), pl.lit(None, pl.String).alias("eventName"), pl.lit("E001").alias("rule"),
        pl.lit("error").alias("severity"), pl.lit("").alias("field"), pl.col(ERROR).alias("message"))


__all__ = ["BatchPlan", "Job", "Resume", "custom_events", "held_warnings", "plan_batch", "reasons", "unreadable"]
