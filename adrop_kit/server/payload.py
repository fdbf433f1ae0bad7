"""One request body judged: JSON parsed behind a depth guard, then the rules of `validate_event`.

The guard runs on the raw bytes before any parser or validator recurses: a body nested deeper than
`MAX_DEPTH` (SPEC.md) is an E001 row without being parsed, so no hostile body can crash a parser,
a validator or, later, the serialisation of a `/_local/events` page. Numbers are read as written
(`io.numbers`): `1e400` is a number (not Infinity), and `1.5e-7`, `200.00` or `-0` are stored as sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adrop_kit.io.jsontext import parse_json_text, too_deep
from adrop_kit.io.numbers import may_hold_tokens
from adrop_kit.io.values import loads_exact, long_digit_run
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import DEPTH_MESSAGE
from adrop_kit.validate.event import validate_event

NOT_JSON = "the body is not valid JSON"
def parse_stored(body: bytes) -> Any:
    """A stored body back as JSON, or None when it is not plain JSON or too deep to hand out safely."""
    if too_deep(body):
        return None
    try:
        return loads_exact(body)
    except ValueError:
        return None


@dataclass(frozen=True)
class Verdict:
    """What the server makes of a body: the payload (None when not JSON) and its error violations."""

    payload: Any
    violations: list[dict[str, str]]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def rules(self) -> str:
        return ",".join(sorted({v["rule"] for v in self.violations}))


def _e001(message: str) -> Verdict:
    return Verdict(None, [{"rule": "E001", "field": "", "message": message}])


def judge(body: bytes, catalog: Catalog, strict: bool) -> Verdict:
    if too_deep(body):
        return _e001(DEPTH_MESSAGE)
    try:
        payload = parse_json_text(body, allow_nan=False)  # NaN is not JSON: Adrop would not parse it
        if long_digit_run(body) or may_hold_tokens(body):  # an integer beyond 64 bits, a number such as
            payload = loads_exact(body, long_run=True)  # `1E2` or `1e400`: kept as sent (and stored so)
    except (ValueError, RecursionError):
        return _e001(NOT_JSON)
    report = validate_event(payload, catalog=catalog, strict=strict)
    if report.ok:
        return Verdict(payload, [])
    return Verdict(payload, [{"rule": v.rule.value, "field": v.field, "message": v.message}
                             for v in report.violations if v.severity == "error"])
