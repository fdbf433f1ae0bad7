"""Sending any size of input in bounded memory: read a batch, validate it, send its valid rows,
journal them, let it go (`Sender.send_all` on inputs that `validate_events` streams).

Each batch goes through the validation pipeline (`validate.pipeline.check_batches`: the same
per-batch check and the same accumulator as `validate_events`, so a batch's W107 is known when it
is read), its rows with an error become `skipped` outcomes, the others are sent by the Sender's
workers exactly as in a one-frame send, and the journal is unchanged. Rows carrying a warning
`hold_warnings=` names (W107 included) are `held` (not sent, not journaled). Rows are keyed by
`event_key(payload, row)` for a single file (the keys earlier runs wrote) and by
`event_key(payload, row, source)` for several files, so row 0 of two part files are two events.
An interrupted or aborted run stops reading: the report counts the rows read, and a new run with
the same journal resumes.

Each batch's outcomes go to a `Tally` as the batch ends: the report keeps exact counts and lists
only the rows needing attention (rejected, failed, skipped, pending, held); delivered, already
delivered and dry-run rows are counted, not kept, so memory does not grow with the input.
`outcomes_out=` writes every row's outcome to a file as it goes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import polars as pl

from adrop_kit.io.frames import BAD, ERROR, RAW, ROW, to_payloads
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.io.parts import Inputs
from adrop_kit.io.stream import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS
from adrop_kit.send.jobs import Job, RunState, held_warnings, reasons
from adrop_kit.send.journal import event_key
from adrop_kit.send.report import EventOutcome, Outcome, SendReport
from adrop_kit.send.tally import Tally
from adrop_kit.support.progress import progress_bar
from adrop_kit.validate.pipeline import Accumulator, check_batches
from adrop_kit.validate.size import mark_oversized
from adrop_kit.validate.stream import input_frames

Rows = list[tuple[int, str | None, str]]


def _batches(sender: Any, inputs: Inputs, batch_bytes: int, batch_rows: int, delimiter: str | None
             ) -> Iterator[tuple[str, pl.DataFrame, Rows, Rows]]:
    """(source label, the rows to send, the skipped rows and the held rows (row, eventName, why)) per batch."""
    hold = sender.hold_warnings
    frames = input_frames(inputs, sender.catalog, batch_bytes=batch_bytes, batch_rows=batch_rows, progress=False,
                          delimiter=delimiter)
    if sender.validate:
        acc = Accumulator(keep=False)  # W107 and counts across batches; the outcomes are the report
        for cb in check_batches(frames, sender.catalog, acc, strict=sender.strict,
                                extra_columns=sender.extra_columns):
            skipped = reasons(cb.violations.filter(pl.col("severity") == "error"))
            ok = cb.df.filter(~pl.col(ROW).is_in(skipped.get_column("row").implode()))
            held = _held(cb.violations, ok, hold)
            if held.height:
                ok = ok.filter(~pl.col(ROW).is_in(held.get_column("row").implode()))
            drop = [c for c in ok.columns if c in (ERROR, RAW, "__ev")
                    or (c.startswith(BAD) and ok.get_column(c).null_count() == ok.height)]
            yield cb.source, ok.drop(drop), list(skipped.iter_rows()), list(held.iter_rows())
        return
    for _, frame in frames:
        df = mark_oversized(frame.df, sender.catalog, sender.extra_columns)  # never sent: the server says 413
        bad = df.filter(pl.col(ERROR).is_not_null())
        skipped = [(r, None, f"E001: {m}") for r, m in bad.select(ROW, ERROR).iter_rows()]
        yield frame.source, df.filter(pl.col(ERROR).is_null()), skipped, []


def _held(violations: pl.DataFrame, ok: pl.DataFrame, hold: Any) -> pl.DataFrame:
    """(row, eventName, why) of the valid rows (`ok`) carrying a warning `hold` names (W107 too: the
    pipeline judged it against every batch before)."""
    if not hold:
        return pl.DataFrame(schema={"row": pl.Int64, "eventName": pl.String, "why": pl.String})
    warned = held_warnings(violations, hold)
    return reasons(warned.filter(pl.col("row").is_in(ok.get_column(ROW).implode())))


def send_stream(sender: Any, inputs: Inputs, *, dry_run_preview: int = 5, batch_bytes: int | None = None,
                batch_rows: int | None = None, delimiter: str | None = None,
                outcomes_out: Any = None) -> SendReport:
    """Send `inputs` batch by batch (see the module docstring)."""
    start = time.perf_counter()
    tally = Tally(outcomes_out)  # a bad suffix or an unwritable path fails here, before anything is sent
    outcomes: list[EventOutcome] = []  # this batch's, until it goes to the tally
    emit = sender._emitter(outcomes)
    label = inputs.label
    total = retries = 0
    longest = 0.0
    interrupted = False
    fatal: str | None = None
    journal_error: str | None = None
    preview: list[str] = []
    read_all = False
    bar = None if sender.dry_run else progress_bar(0, sender.progress, unit="ev", desc="sending")
    if bar is not None:
        bar.total = None
    try:
        for part, ok, skipped, held in _batches(sender, inputs, batch_bytes or DEFAULT_BATCH_BYTES,
                                                batch_rows or DEFAULT_BATCH_ROWS, delimiter):
            tally.add(outcomes, label)  # the batch before, then let go
            outcomes.clear()
            label = part
            source = label if inputs.multi else None
            total += ok.height + len(skipped) + len(held)
            for r, ev, why in skipped:
                emit(EventOutcome(r, ev, None, Outcome.SKIPPED, None, 0, why, source))
            for r, ev, why in held:  # never sent, never journaled: a run without hold_warnings sends them
                emit(EventOutcome(r, ev, None, Outcome.HELD, None, 0, why, source))
            sendable = to_payloads(ok, sender.catalog, extra_columns=sender.extra_columns)
            jobs = [Job(i, row, event_key(p, row, source),
                        p.get("eventName") if isinstance(p.get("eventName"), str) else None, dumps_payload(p),
                        source=source) for i, (row, p) in enumerate(sendable)]
            if sender.dry_run:
                preview += [sender.render_request(p) for _, p in sendable[:max(0, dry_run_preview - len(preview))]]
                for j in jobs:
                    emit(EventOutcome(j.row, j.event_name, j.key, Outcome.DRY_RUN, None, 0, None, source))
                del ok, sendable, jobs  # not kept while the next batch is read
                continue
            todo = _known(sender, jobs, emit, source)
            state = RunState([None] * len(todo))
            interrupted = sender._run(todo, state, bar)
            for j, o in zip(todo, state.outcomes, strict=True):
                if o is None:
                    emit(EventOutcome(j.row, j.event_name, j.key, Outcome.PENDING, None, 0, state.fatal or (
                        "not attempted: the run was interrupted" if interrupted else "not attempted"), source))
                else:
                    outcomes.append(o)  # emitted by its worker as it happened
                    retries += max(0, o.attempts - j.attempts_before - 1)
            longest = max(longest, state.longest_wait)
            fatal, journal_error = state.fatal, state.journal_error
            del ok, sendable, jobs, todo, state  # not kept while the next batch is read
            if interrupted or fatal:
                break
        else:
            read_all = True
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        try:
            tally.add(outcomes, label)
        finally:
            tally.close()
    return SendReport(total=total, outcomes=tally.listed, elapsed_s=time.perf_counter() - start,
                      source=inputs.label, endpoint=sender.endpoint.url, dry_run=sender.dry_run, requests=preview,
                      interrupted=interrupted, aborted=fatal, retries=retries, longest_wait_s=longest,
                      journal_error=journal_error, read_all=read_all, counts=dict(tally.counts),
                      outcomes_out=tally.path)


def _known(sender: Any, jobs: list[Any], emit: Any, source: str | None) -> list[Any]:
    """Outcomes for what the journal already knows; the jobs still to send."""
    known = sender.journal.lookup(j.key for j in jobs) if sender.journal is not None else {}
    todo = []
    for j in jobs:
        status, attempts = known.get(j.key, (None, 0))
        if status == Outcome.DELIVERED:
            emit(EventOutcome(j.row, j.event_name, j.key, Outcome.ALREADY_DELIVERED, None, attempts, None, source))
        elif status == Outcome.REJECTED:
            emit(EventOutcome(j.row, j.event_name, j.key, Outcome.REJECTED, None, attempts,
                              "rejected in an earlier run (journal)", source))
        else:
            j.attempts_before = attempts
            j.index = len(todo)
            todo.append(j)
    return todo


__all__ = ["send_stream"]
