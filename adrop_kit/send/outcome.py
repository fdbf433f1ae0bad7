"""An event's fate, in one vocabulary: the `Outcome` enum and the one per-event result, `EventOutcome`.

Every place that names what happened to an event uses these: a transport's classified reply
(`transport.Reply.outcome`: delivered, rejected or failed, with whether another attempt may help),
`Sender.send` (`SendResult` is `EventOutcome`), each row of a dataset send, the journal's rows, the
`on_outcome` hook, `SendReport`, the `outcomes_out` file and Spark's outcomes table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple


class Outcome(StrEnum):
    """Where an event ends up: every event of a send ends in exactly one of these."""

    DELIVERED = "delivered"                  # the server said ok
    REJECTED = "rejected"                    # the server said !invalid (retrying cannot help)
    FAILED = "failed"                        # gave up: retries or the time budget spent, or a worker error
    SKIPPED = "skipped"                      # invalid locally, never sent
    ALREADY_DELIVERED = "already_delivered"  # delivered by an earlier run (the journal, or Spark's previous=)
    PENDING = "pending"                      # not attempted: interrupted, or the run stopped (a refused key)
    DRY_RUN = "dry_run"                      # would have been sent
    HELD = "held"                            # valid, but held back: it carries a warning the caller holds
    CHANGED = "changed"                      # its position was delivered with another body: not re-sent
                                             # unless asked (`resend_changed=`, --resend-changed)


OUTCOMES = tuple(o.value for o in Outcome)
OUTCOME_WORDS = {Outcome.DELIVERED: "delivered", Outcome.REJECTED: "rejected by the server",
                 Outcome.FAILED: "failed", Outcome.SKIPPED: "skipped (invalid)",
                 Outcome.ALREADY_DELIVERED: "already delivered", Outcome.PENDING: "not attempted",
                 Outcome.DRY_RUN: "would be sent", Outcome.HELD: "held back (warnings)",
                 Outcome.CHANGED: "changed since delivered"}
"""Each outcome in words, for tables and notebooks."""

LISTED = (Outcome.REJECTED, Outcome.FAILED, Outcome.SKIPPED, Outcome.PENDING, Outcome.HELD, Outcome.CHANGED)
"""The outcomes a streamed send lists row by row (they need the user's attention); the others
(delivered, already delivered, dry run) it only counts, so its memory does not grow with the input."""

PROBLEMS = (Outcome.REJECTED, Outcome.FAILED, Outcome.SKIPPED, Outcome.PENDING)
"""The outcomes that make a send not `ok` (held rows are the caller's choice; a changed row was
delivered before, in its earlier form)."""

COLUMNS = ("row", "eventName", "key", "outcome", "status", "attempts", "error", "source")
"""An `EventOutcome` as a table row (`SendReport.table()`, the outcomes file): every field but `violations`."""


class EventOutcome(NamedTuple):
    """The fate of one event: of one row of a dataset send, or of `Sender.send` (as `SendResult`:
    `row` 0, no `key`, and the `violations` that kept it back when it was skipped or held)."""

    row: int
    eventName: str | None  # noqa: N815 - the payload's own field name
    key: str | None
    """The journal's event key (`send.plan.Identity`: a hash of the body sent and its occurrence, or
    of the `id_column` value; never the app key)."""
    outcome: Outcome
    status: int | None
    """The HTTP status of the last reply, None when none came (or nothing was sent)."""
    attempts: int
    error: str | None
    """Why it was not delivered: the server's reply, the transport's error, or the rules it broke."""
    source: str | None = None
    """The file the row is in, when the input had several (a directory, a glob, a list)."""
    violations: tuple[Any, ...] = ()
    """`Sender.send`: the `Violation`s of a skipped or held event."""

    @property
    def ok(self) -> bool:
        """Delivered, now or earlier, or (in a dry run) would be sent."""
        return self.outcome in (Outcome.DELIVERED, Outcome.ALREADY_DELIVERED, Outcome.DRY_RUN)

    def as_row(self) -> tuple[Any, ...]:
        """The `COLUMNS` of this outcome, in order, the outcome as its string."""
        return (self.row, self.eventName, self.key, str(self.outcome), self.status, self.attempts, self.error,
                self.source)

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(COLUMNS, self.as_row(), strict=True))


SendResult = EventOutcome
"""What `Sender.send` returns: the same per-event result as a dataset send's rows."""


__all__ = ["COLUMNS", "LISTED", "OUTCOMES", "OUTCOME_WORDS", "PROBLEMS", "EventOutcome", "Outcome", "SendResult"]
