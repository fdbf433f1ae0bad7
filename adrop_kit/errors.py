"""The one exception tree of adrop_kit.

    AdropError
    ├── PlanError(AdropError, ValueError)     a tracking plan file is malformed
    ├── UnknownEvent(AdropError, KeyError)    an event name the catalog does not know
    └── DataReadError(AdropError, OSError)    a dataset cannot be read at all

Validation never raises for bad *data*: bad rows are reported, not thrown.
These are for bad *arguments* and unreadable inputs.
"""

from __future__ import annotations


class AdropError(Exception):
    """Root of every error adrop_kit raises on purpose."""


class PlanError(AdropError, ValueError):
    """A tracking plan (custom events) file is malformed."""


class UnknownEvent(AdropError, KeyError):
    """An event name that is not in the catalog."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown event"


class DataReadError(AdropError, OSError):
    """A dataset cannot be read at all (missing file, unknown format, not a table)."""
