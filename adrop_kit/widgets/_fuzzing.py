"""Drawing payloads with the hypothesis strategies and probing an endpoint with them; no widget import."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog, resolve
from ..payload import validate_event


@dataclass(frozen=True)
class Case:
    """One drawn payload: the event it was drawn for and the rule it breaks (None: a valid one)."""

    event: str
    rule: str | None
    payload: Any


def draw_cases(events: Sequence[str], *, n: int, valid: bool = True, invalid: bool = True, seed: int = 0,
               catalog: Catalog | str | None = None) -> list[Case]:
    """Draw `n` payloads with the strategies inside a `@given` run (no `.example()`): valid ones,
    invalid ones (with the rule each breaks), or both, for the named events. Same seed, same payloads."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    from ..strategies import events as valid_events
    from ..strategies import invalid_events

    if not events:
        raise ValueError("choose at least one event")
    if not (valid or invalid):
        raise ValueError("choose valid, invalid or both")
    cat = resolve(catalog)
    options = []
    for name in events:
        if valid:
            options.append(st.tuples(st.just(name), st.none(), valid_events(name, catalog=cat)))
        if invalid:
            options.append(st.tuples(st.just(name), invalid_events(name, catalog=cat)).map(
                lambda t: (t[0], t[1][1], t[1][0])))
    strategy = st.one_of(options)
    drawn: list[Case] = []

    def run(data: Any) -> None:
        if len(drawn) < n:
            event, rule, payload = data.draw(strategy)
            drawn.append(Case(event, rule, payload))

    options_ = settings(max_examples=max(1, n), database=None, phases=[Phase.generate], deadline=None,
                        suppress_health_check=list(HealthCheck))
    for attempt in range(5):  # hypothesis stops early when it runs out of new inputs: go on with the next seed
        hseed(seed + attempt)(options_(given(st.data())(run)))()
        if len(drawn) >= n:
            break
    return drawn[:n]


def cases_rows(cases: Sequence[Case], catalog: Catalog | str | None = None,
               strict: bool = False) -> list[tuple[Any, ...]]:
    """Rows for the fuzz table: #, event, broken rule, local verdict, payload."""
    cat = resolve(catalog)
    rows = []
    for i, c in enumerate(cases):
        report = validate_event(c.payload, catalog=cat, strict=strict)
        verdict = "ok" if report.ok else "!invalid"
        rows.append((i, c.event, c.rule or "—", verdict, json.dumps(c.payload, ensure_ascii=False, default=str)))
    return rows


def probe_cases(cases: Sequence[Case], sender: Any, catalog: Catalog | str | None = None,
                strict: bool = False) -> list[tuple[Any, ...]]:
    """Send each payload as it is (no local validation) and compare the endpoint's verdict with the
    local one, judged on the JSON that actually went out (NaN becomes null on the wire)."""
    import orjson

    cat = resolve(catalog)
    rows = []
    for i, c in enumerate(cases):
        wire = orjson.loads(orjson.dumps(c.payload))
        expected = "ok" if validate_event(wire, catalog=cat, strict=strict).ok else "!invalid"
        result = sender.send(c.payload)
        observed = {"delivered": "ok", "rejected": "!invalid"}.get(result.outcome, result.outcome)
        rows.append((i, c.event, c.rule or "—", expected, observed,
                     "✓" if expected == observed else "✗ disagree", result.status))
    return rows


__all__ = ["Case", "cases_rows", "draw_cases", "probe_cases"]
