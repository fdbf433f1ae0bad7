"""adrop_kit: check, explore, send and contract-test events for Adrop's event API.

The package is layered (docs/architecture.md; kept by the import-linter contract in
pyproject.toml):

    spec → io → validate → {send, server, explore, export} → testing → {cli, widgets}

This module is the public face: it only re-exports. Importing it stays light (no polars,
pandas or pandera until a dataset is validated).
"""

from __future__ import annotations

import os as _os

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
from adrop_kit.send.report import EventOutcome, Outcome, SendReport
from adrop_kit.send.retry import RetryPolicy
from adrop_kit.send.sender import Sender, SendResult
from adrop_kit.server import Faults, LocalServer
from adrop_kit.spec.catalog import STANDARD, Catalog, EventSpec, ParamSpec
from adrop_kit.spec.rules import Rule, Violation
from adrop_kit.spec.version import __version__
from adrop_kit.validate.event import validate_event
from adrop_kit.validate.report import DatasetReport, EventReport

# The module paths of earlier releases (adrop_kit.schemas, .strategies, .contract, .analytics)
# live in compat/ and re-export from their new homes; they are found through this path entry.
__path__.append(_os.path.join(_os.path.dirname(__file__), "compat"))  # noqa: F821 - __path__ is set for packages


def validate_events(data, *, catalog=None, strict=False, **kwargs):  # noqa: ANN001, ANN201
    """Validate a dataset; see `adrop_kit.validate.dataset.validate_events` (imported lazily: it loads polars)."""
    from adrop_kit.validate.dataset import validate_events as _validate_events

    return _validate_events(data, catalog=catalog, strict=strict, **kwargs)


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
