"""The exit codes of `adrop-kit`, defined here and nowhere else, and how a report maps to one.

    0  OK            no invalid row (warnings allowed); every valid row delivered; all agreed
    1  INVALID       invalid rows, events the server rejected, or contract disagreements
    2  USAGE         a usage error, an unreadable input, a bad tracking plan, a missing key
    3  DELIVERY      delivery failed (network or server) after retries, or the run did not finish
    130 INTERRUPTED  Ctrl-C (the journal keeps what was done)
    143 TERMINATED   SIGTERM during a send: stopped as Ctrl-C stops it
"""

from __future__ import annotations

from typing import Any

OK, INVALID, USAGE, DELIVERY = 0, 1, 2, 3
INTERRUPTED, BROKEN_PIPE, TERMINATED = 130, 141, 143


def for_dataset(report: Any) -> int:
    """A `DatasetReport`: 1 when any row is invalid."""
    return INVALID if report.invalid else OK


def for_send(report: Any) -> int:
    """A `SendReport`: 3 when an event failed or was left pending, else 1 when one was rejected or skipped."""
    if report.failed or report.pending:
        return DELIVERY
    if report.rejected or report.skipped:
        return INVALID
    return OK


def for_contract(report: Any) -> int:
    """A `ContractReport`: 3 when the endpoint could not be probed, 1 on disagreements."""
    if report.error is not None:
        return DELIVERY
    return INVALID if report.disagreements else OK


__all__ = ["BROKEN_PIPE", "DELIVERY", "INTERRUPTED", "INVALID", "OK", "TERMINATED", "USAGE", "for_contract",
           "for_dataset", "for_send"]
