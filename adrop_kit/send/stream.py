"""The one send loop: batches in, each planned, sent, journaled, counted, let go.

    source ─▶ batches (a frame read whole is one; a streamed input many; a Spark chunk one)
      └─▶ checked (`checked`: the validation pipeline's `check_batches`, W107 across batches) ─▶ rows + violations
            └─▶ `plan.plan_batch` (skipped · held · dry run · settled by the `Resume` · jobs)
                  └─▶ `workers.run_jobs` (retries, journal, `on_outcome`) ─▶ `Tally` ─▶ `SendReport`

`Sender.send_all` runs it on any input (an input that `validate_events` reads whole is the one-batch
case) and Spark's partitions run it on their chunks (`adrop_kit.spark.send`).
Rows are keyed by the input's one `plan.Identity` (the body sent and its occurrence in the input,
or the `id_column`), and placed by (source, row): a row's source is its part file when the input
has several.
W107 is the pipeline's, judged against every batch before (a W107 is a warning: it keeps a row
back only when `hold_warnings=` holds it). An interrupted or aborted run stops reading: the report
counts the rows read, and a new run with the same journal resumes.
A row that may have changed since it was delivered waits for the end of the input (`plan.BatchPlan.deferred`:
whether its earlier event is still in the input is known only then); after the last batch those rows are
settled (`plan.settle_deferred`) and sent or listed as changed, part by part; left `pending` if the run stops before.

Each batch's outcomes go to a `Tally` as the batch ends: the report keeps exact counts and, for a
streamed input, lists only the rows needing attention (rejected, failed, skipped, pending, held);
delivered, already delivered and dry-run rows are counted, not kept, so memory does not grow with
the input. `outcomes_out=` writes every row's outcome to a file as it goes; `quarantine=` every row
not sent (skipped, held, changed, rejected, failed, pending) in the user's own columns and values,
with `_adrop_outcome` and `_adrop_why` (metadata columns: a fixed file sends as it is).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import polars as pl

from adrop_kit.io.frames import ROW, Frame
from adrop_kit.io.importers.detect import export_hint
from adrop_kit.io.sink import RowSink
from adrop_kit.send.outcome import EventOutcome, Outcome
from adrop_kit.send.plan import BatchPlan, Identity, Job, Resume, plan_batch, settle_deferred, unreadable
from adrop_kit.send.report import SendReport
from adrop_kit.send.tally import Tally
from adrop_kit.send.workers import RunState, run_jobs
from adrop_kit.support.progress import progress_bar
from adrop_kit.validate.pipeline import Accumulator, check_batches
from adrop_kit.validate.size import mark_oversized

Checked = tuple[str, pl.DataFrame, pl.DataFrame, tuple[str, ...]]
"""A checked batch: its source label, its rows (the canonical frame), their violations, the reader's notes
(a CSV read as CP949, one read as one column, …)."""


def checked(sender: Any, frames: Iterable[tuple[int, Frame]]) -> Iterator[Checked]:
    """Each (part index, frame) of an input, in input order, checked as the Sender asks: by the
    validation pipeline (`validate.pipeline.check_batches`: every rule, W107 against the batches
    before, so a batch's W107 is known when it is read); or, with `validate=False`, only what the
    server would refuse unread (`plan.unreadable`)."""
    if not sender.validate:
        for _, frame in frames:
            df = mark_oversized(frame.df, sender.catalog, sender.extra_columns)  # never sent: the server says 413
            yield frame.source, df, unreadable(df), frame.notes
        return
    acc = Accumulator(keep=False)  # W107 and counts across batches; the outcomes are the report
    for cb in check_batches(frames, sender.catalog, acc, strict=sender.strict, extra_columns=sender.extra_columns):
        yield cb.source, cb.df, cb.violations, cb.notes


def send_batches(sender: Any, batches: Iterable[Checked], *, label: str, multi: bool = False,
                 whole: bool = False, resume: Resume | None = None, dry_run_preview: int = 5,
                 outcomes_out: Any = None, quarantine: Any = None) -> SendReport:
    """Send every checked batch (see the module docstring). `multi`: the input has several files (the
    rows' source is part of their position and outcome); `whole`: the input is one batch, whose report
    lists every row; `resume`: what earlier runs settled (the Sender's journal when None)."""
    start = time.perf_counter()
    resume = resume if resume is not None else sender.journal
    identity = Identity(getattr(sender, "id_column", None))
    tally = Tally(outcomes_out, list_all=whole)  # a bad suffix or an unwritable path fails here, before sending
    try:
        held_out = RowSink(quarantine, positions=True, multi=multi, what="quarantined rows") \
            if quarantine is not None else None
    except BaseException:
        tally.close()
        raise
    outcomes: list[EventOutcome] = []  # this batch's, until it goes to the tally
    emit = sender._emitter(outcomes)
    part = label
    total = retries = 0
    longest = 0.0
    interrupted = False
    fatal: str | None = None
    journal_error: str | None = None
    preview: list[str] = []
    read_all = False
    notes: dict[str, None] = {}  # once per run, however many batches say it
    bar = None if sender.dry_run else progress_bar(0, sender.progress, unit="ev", desc="sending")
    if bar is not None:
        bar.total = None
    deferred: dict[str, list[Job]] = {}  # rows maybe changed since delivered, by part: decided at the end
    deferred_rows: dict[str, list[pl.DataFrame]] = {}  # theirs as read, for the quarantine

    def run(plan: BatchPlan, df: pl.DataFrame | None, part: str, source: str | None) -> bool:
        """A planned batch: its settled rows shown, its jobs sent, its outcomes counted. True: stop."""
        nonlocal retries, longest, interrupted, fatal, journal_error
        tally.custom.update(plan.custom)
        for o in plan.settled:
            emit(o)
        preview.extend(sender._render(j.body) for j in plan.would_send[:max(0, dry_run_preview - len(preview))])
        if bar is not None and whole:
            bar.total = len(plan.jobs)
        state = RunState([None] * len(plan.jobs))
        interrupted = run_jobs(sender, plan.jobs, state, bar)
        for j, o in zip(plan.jobs, state.outcomes, strict=True):
            if o is None:
                emit(EventOutcome(j.row, j.event_name, j.key, Outcome.PENDING, None, 0, state.fatal or (
                    "not attempted: the run was interrupted" if interrupted else "not attempted"), source))
            else:
                outcomes.append(o)  # shown to the hook by its worker as it happened
                retries += max(0, o.attempts - j.attempts_before - 1)
        longest = max(longest, state.longest_wait)
        fatal, journal_error = state.fatal, state.journal_error
        if held_out is not None and df is not None:
            _quarantine(held_out, df, outcomes, part)
        tally.add(outcomes, part)  # then let go, before the next batch is read
        outcomes.clear()
        return bool(interrupted or fatal)

    finished = False
    try:
        for part, df, violations, batch_notes in batches:
            source = part if multi else None
            total += df.height
            notes.update(dict.fromkeys(batch_notes))
            if hint := export_hint(df.columns):  # a GA4 / Segment export: say which import
                notes[hint] = None
            plan = plan_batch(df, violations, catalog=sender.catalog, extra_columns=sender.extra_columns,
                              hold=sender.hold_warnings, source=source, resume=resume, dry_run=sender.dry_run,
                              identity=identity, resend_changed=getattr(sender, "resend_changed", False),
                              final=whole)
            del violations
            if plan.deferred:
                deferred.setdefault(part, []).extend(plan.deferred)
                if held_out is not None:
                    rows = pl.Series([j.row for j in plan.deferred], dtype=df.schema[ROW])
                    deferred_rows.setdefault(part, []).append(df.filter(pl.col(ROW).is_in(rows.implode())))
            stop = run(plan, df, part, source)
            del df, plan
            if stop:
                read_all = whole
                break
        else:
            read_all = finished = True
        while finished and deferred:  # the whole input is read: what was maybe changed is known now
            part = next(iter(deferred))
            jobs = deferred.pop(part)
            plan = settle_deferred(jobs, identity, resume=resume, dry_run=sender.dry_run)  # type: ignore[arg-type]
            kept = deferred_rows.pop(part, [])
            if run(plan, pl.concat(kept, how="diagonal_relaxed") if kept else None, part, jobs[0].source):
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        try:
            tally.add(outcomes, part)
            for part, jobs in deferred.items():  # never decided: the run stopped before the end of the input
                left = [EventOutcome(j.row, j.event_name, j.key, Outcome.PENDING, None, 0, fatal or (
                    "not attempted: the run stopped before the end of the input, which says whether this row "
                    "changed since it was delivered"), j.source) for j in jobs]
                if held_out is not None and deferred_rows.get(part):
                    _quarantine(held_out, pl.concat(deferred_rows[part], how="diagonal_relaxed"), left, part)
                tally.add(left, part)
        finally:
            tally.close()
            if held_out is not None:
                held_out.close()
    return SendReport(total=total, outcomes=tally.listed, elapsed_s=time.perf_counter() - start,
                      source=label, endpoint=sender.endpoint.url, dry_run=sender.dry_run, requests=preview,
                      interrupted=interrupted, aborted=fatal, retries=retries, longest_wait_s=longest,
                      journal_error=journal_error, read_all=read_all,
                      counts=None if whole else dict(tally.counts), outcomes_out=tally.path,
                      journal=getattr(resume, "path", None),
                      quarantine=None if held_out is None else str(held_out.path), notes=tuple(notes),
                      custom_events=dict(tally.custom))


_SENT = frozenset({Outcome.DELIVERED, Outcome.ALREADY_DELIVERED, Outcome.DRY_RUN})


def _quarantine(sink: RowSink, df: pl.DataFrame, outcomes: list[EventOutcome], part: str) -> None:
    """The rows of a batch that were not sent, as the user gave them, with why."""
    kept = [(o.row, str(o.outcome), o.error or "") for o in outcomes if o.outcome not in _SENT]
    if not kept:
        return
    why = pl.DataFrame(kept, schema={ROW: pl.Int64, "_adrop_outcome": pl.String, "_adrop_why": pl.String},
                       orient="row")
    rows = df.join(why.with_columns(pl.col(ROW).cast(df.schema[ROW])), on=ROW, how="inner").sort(ROW)
    sink.write(rows, part)


__all__ = ["Checked", "checked", "send_batches"]
