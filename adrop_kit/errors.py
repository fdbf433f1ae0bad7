"""The one exception tree of adrop_kit (every class is exported from `adrop_kit`).

    AdropError                                     root: catch this to catch anything raised on purpose
    ├── PlanError(AdropError, ValueError)          a tracking plan file is malformed
    ├── UnknownEvent(AdropError, KeyError)         an event name the catalog does not know
    ├── DataReadError(AdropError, OSError)         a dataset cannot be read at all
    ├── InvalidEvents(AdropError, ValueError)      `DatasetReport.raise_for_errors()` found invalid rows
    ├── MetaColumnError(AdropError, ValueError)    a metadata column names the envelope or a catalog parameter
    ├── MissingKey(AdropError, ValueError)         no usable app key (set ADROP_APP_KEY)
    ├── InsecureEndpoint(AdropError, ValueError)   plain http:// to a host that is not this machine
    ├── JournalError(AdropError, OSError)          the delivery journal cannot be opened or written
    │   └── JournalInUse(JournalError)             another run is using this journal right now
    └── ContractRefused(AdropError, ValueError)    a contract run that would store real events without consent

Validation never raises for bad *data*: bad rows are reported, not thrown. These are for bad
*arguments*, unreadable inputs and refusals. Messages never contain the app key.
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


class InvalidEvents(AdropError, ValueError):
    """Raised by `DatasetReport.raise_for_errors()` when at least one row is invalid."""


class MetaColumnError(AdropError, ValueError):
    """`extra_columns=` / `--meta-columns` names `uid`, `eventName`, `platform` or a catalog parameter:
    metadata is never checked nor sent, and those must be (SPEC.md, "Decisions")."""


class MissingKey(AdropError, ValueError):
    """No app key: pass one or set ADROP_APP_KEY (or the key has characters a header cannot carry)."""


class InsecureEndpoint(AdropError, ValueError):
    """A plain http:// endpoint that is not on this machine: the key would travel in clear text."""


class JournalError(AdropError, OSError):
    """The journal file cannot be opened or written."""


class JournalInUse(JournalError):
    """Another send is using this journal right now (two runs would send the same events twice)."""


class ContractRefused(AdropError, ValueError):
    """A contract run refused before sending: it would store accepted events on a real endpoint."""


__all__ = ["AdropError", "ContractRefused", "DataReadError", "InsecureEndpoint", "InvalidEvents", "JournalError",
           "JournalInUse", "MetaColumnError", "MissingKey", "PlanError", "UnknownEvent"]
