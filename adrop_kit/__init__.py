"""adrop_kit: check, explore, send and contract-test events for Adrop's event API."""

from __future__ import annotations

from .catalog import STANDARD, Catalog, EventSpec, ParamSpec
from .errors import AdropError, DataReadError, PlanError, UnknownEvent
from .payload import validate_event
from .report import DatasetReport, EventReport, InvalidEvents
from .rules import Rule, Violation
from .send_report import SendReport
from .sender import Sender, SendResult
from .server import Faults, LocalServer

__version__ = "0.1.0"


def validate_events(data, *, catalog=None, strict=False, **kwargs):  # noqa: ANN001, ANN201
    """Validate a dataset; see `adrop_kit.schemas.validate_events` (imported lazily: it loads polars)."""
    from .schemas import validate_events as _validate_events

    return _validate_events(data, catalog=catalog, strict=strict, **kwargs)


__all__ = [
    "STANDARD",
    "AdropError",
    "Catalog",
    "DataReadError",
    "DatasetReport",
    "EventReport",
    "EventSpec",
    "Faults",
    "InvalidEvents",
    "LocalServer",
    "ParamSpec",
    "PlanError",
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
