"""The workers of a send: a queue of planned `Job`s drained by `concurrency` threads, each job
POSTed by the one retry loop (`retry.post_with_retries`), its outcome handed to the journal (when
the run has one; committed with its group, and every group by the end of the batch), then shown to
the `on_outcome` hook.

A fatal reply (the key refused, the wrong URL) or a worker's own error (a journal that cannot be
written) stops the run: jobs not yet taken stay `None` in `RunState.outcomes` and become `pending`.
Ctrl-C in the calling thread stops the workers too; whatever was journaled stays journaled.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from adrop_kit.errors import JournalError
from adrop_kit.send.outcome import EventOutcome, Outcome
from adrop_kit.send.plan import Job
from adrop_kit.send.retry import post_with_retries


@dataclass
class RunState:
    """One batch's run: each job's outcome (None: not attempted), why it stopped, the longest wait."""

    outcomes: list[EventOutcome | None]
    stop: threading.Event = field(default_factory=threading.Event)
    fatal: str | None = None
    journal_error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    longest_wait: float = 0.0


def run_jobs(sender: Any, todo: list[Job], state: RunState, bar: Any = None) -> bool:
    """Send `todo` with the `Sender`'s transport, policy, limiter, journal and hook; the calling thread
    moves `bar` along. Returns True if interrupted (Ctrl-C)."""
    if not todo:
        return False
    q: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
    for j in todo:
        q.put(j)
    n_workers = min(sender.concurrency, len(todo))
    for _ in range(n_workers):
        q.put(None)
    done = threading.Semaphore(0)

    def work() -> None:
        while not state.stop.is_set():
            job = q.get()
            if job is None:
                break
            try:
                _one(sender, job, state)
            except Exception as exc:  # noqa: BLE001 - a worker must not die silently (disk full, ...)
                why = f"{type(exc).__name__}: {exc}"
                if state.outcomes[job.index] is None:
                    state.outcomes[job.index] = EventOutcome(job.row, job.event_name, job.key, Outcome.FAILED,
                                                             None, job.attempts_before, why, job.source)
                with state.lock:
                    state.fatal = state.fatal or f"stopped by an error: {why}"
                    if isinstance(exc, JournalError):
                        state.journal_error = state.journal_error or str(exc)
                state.stop.set()
            finally:
                done.release()

    threads = [threading.Thread(target=work, name=f"adrop-send-{i}", daemon=True) for i in range(n_workers)]
    for t in threads:
        t.start()
    interrupted = False
    try:
        finished = 0
        while finished < len(todo) and any(t.is_alive() for t in threads):
            if done.acquire(timeout=0.1):
                finished += 1
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        state.stop.set()
    finally:
        if interrupted:
            state.stop.set()
        for t in threads:
            t.join()
        _flush(sender, state)
        sender.transport.close()  # a long-lived Sender must not hoard sockets between batches
    return interrupted


def _flush(sender: Any, state: RunState) -> None:
    """Commit the journal's last group of the batch; a failure stops the run as a worker's would."""
    if sender.journal is None or not hasattr(sender.journal, "flush"):
        return
    try:
        sender.journal.flush()
    except JournalError as exc:
        state.journal_error = state.journal_error or str(exc)
        state.fatal = state.fatal or f"stopped by an error: {type(exc).__name__}: {exc}"
        state.stop.set()


def _one(sender: Any, job: Job, state: RunState) -> None:
    """One job: sent, its outcome kept, journaled, shown to the hook; a fatal reply stops the run."""
    reply, attempts, waited = post_with_retries(sender.transport, sender._request(job.body), sender.retry,
                                                limiter=sender.limiter, stop=state.stop)
    outcome = EventOutcome(job.row, job.event_name, job.key, reply.outcome, reply.status,
                           job.attempts_before + attempts, reply.why, job.source)
    state.outcomes[job.index] = outcome
    if sender.journal is not None:
        sender.journal.record(job.key, job.row, job.event_name, str(outcome.outcome), outcome.attempts,
                              outcome.status, outcome.error, source=job.source or "", body=job.body_hash,
                              subject=job.subject)
    if waited > state.longest_wait:
        with state.lock:
            state.longest_wait = max(state.longest_wait, waited)
    if sender.on_outcome is not None:
        sender.on_outcome(outcome)
    if reply.fatal:  # a wrong key or a wrong endpoint: nothing else would get through
        with state.lock:
            state.fatal = reply.error
        state.stop.set()


__all__ = ["RunState", "run_jobs"]
