"""adrop_kit: check, explore, send and contract-test events for Adrop's event API.

The package is layered (docs/architecture.md; kept by the import-linter contract in
pyproject.toml):

    {errors, support} → spec → io → validate → {send, server, explore} → {testing, spark} → {cli, widgets}

This module is the public face: it only re-exports. Importing it stays light: no uvicorn
until a `LocalServer` is asked for, no polars, pandas or pandera until a dataset is validated
(`adrop_kit.support.lazy`).
"""

from __future__ import annotations

import typing as _typing

from adrop_kit.errors import (
    AdropError,
    ContractRefused,
    DataReadError,
    InsecureEndpoint,
    InvalidEvents,
    JournalError,
    JournalInUse,
    MissingKey,
    PlanError,
    UnknownEvent,
)
from adrop_kit.send.outcome import EventOutcome, Outcome, SendResult
from adrop_kit.send.report import SendReport
from adrop_kit.send.retry import RetryPolicy
from adrop_kit.send.sender import Sender
from adrop_kit.spec.catalog import STANDARD, Catalog, EventSpec, ParamSpec
from adrop_kit.spec.rules import Rule, Violation
from adrop_kit.spec.version import __version__
from adrop_kit.support.lazy import lazy_exports as _lazy_exports
from adrop_kit.validate.event import validate_event
from adrop_kit.validate.report import DatasetReport, EventReport

if _typing.TYPE_CHECKING:  # the lazy names, for type checkers and readers
    from adrop_kit.server.app import LocalServer
    from adrop_kit.server.faults import Faults
    from adrop_kit.validate import importers as importers
    from adrop_kit.validate.dataset import validate_events

# Imported on first use: the server loads uvicorn, dataset validation loads polars. `importers`
# (`adrop_kit.importers.ga4(...)`, `.segment(...)`) is a module, like the subpackages not in __all__.
__getattr__, __dir__ = _lazy_exports(__name__, {
    "Faults": "adrop_kit.server.faults",
    "importers": "adrop_kit.validate.importers",
    "LocalServer": "adrop_kit.server.app",
    "validate_events": "adrop_kit.validate.dataset",
})

__all__ = [
    "STANDARD",
    "AdropError",
    "Catalog",
    "ContractRefused",
    "DataReadError",
    "DatasetReport",
    "EventReport",
    "EventOutcome",
    "EventSpec",
    "Faults",
    "InsecureEndpoint",
    "InvalidEvents",
    "JournalError",
    "JournalInUse",
    "LocalServer",
    "MissingKey",
    "Outcome",
    "ParamSpec",
    "PlanError",
    "RetryPolicy",
    "Rule",
    "SendReport",
    "SendResult",
    "Sender",
    "UnknownEvent",
    "Violation",
    "__version__",
    "validate_event",
    "validate_events",
]
