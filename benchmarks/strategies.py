"""How many payloads/s `events()` and `invalid_events()` draw, against a naive hand-written baseline.

    .venv/bin/python benchmarks/strategies.py [--n 2000] [--repeats 5] [--bulk 100]

`event_frames()` is measured the same way, in rows/s: frames of `--bulk` rows, a tenth
of them broken, built into a polars or a pandas DataFrame (the frame building included).

Drawing goes through the public API only: a `@given` test that receives the payloads,
run in the generate phase (no database, no shrinking), the way a test suite draws them.
"one by one" gives each payload its own test case; "bulk" draws lists of `--bulk`
payloads per test case (Hypothesis' fixed cost per test case is shared). A test case
that overruns Hypothesis' size budget yields nothing and still costs time, so only
payloads actually delivered are counted. Each figure is the median of `--repeats` runs;
the runs of all strategies are interleaved, and timed in process CPU time, so that
other load on a shared machine disturbs the baseline and adrop_kit alike.

The baseline is what one writes by hand first: per event a `st.fixed_dictionaries`
with `st.text()` values (optional parameters as optional keys), `st.one_of` over the
events; its invalid twin applies one simple mutation to such a payload.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from adrop_kit import validate_event
from adrop_kit.spec.catalog import PLATFORMS, STANDARD
from adrop_kit.testing.strategies import event_frames, events, invalid_events


# -- the naive baseline -------------------------------------------------------------------
def _naive_value(ptype: str) -> st.SearchStrategy[Any]:
    if ptype == "string":
        return st.text(min_size=1, max_size=12).filter(str.strip)
    if ptype == "number":
        return st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
    if ptype == "integer":
        return st.integers(1, 20)
    item = st.fixed_dictionaries({"item_id": st.text(min_size=1, max_size=12)},
                                 optional={p.name: _naive_value(p.type) for p in STANDARD.item_params
                                           if not p.required})
    return st.lists(item, min_size=1, max_size=4)


def naive_events() -> st.SearchStrategy[dict[str, Any]]:
    per_event = []
    for ev in STANDARD:
        required = {"uid": st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True), "eventName": st.just(ev.name)}
        required |= {p.name: _naive_value(p.type) for p in ev.params if p.required}
        optional = {"platform": st.sampled_from(PLATFORMS)}
        optional |= {p.name: _naive_value(p.type) for p in ev.params if not p.required}
        per_event.append(st.fixed_dictionaries(required, optional=optional))
    return st.one_of(per_event)


_NAIVE_MUTATIONS = (
    ("E001", lambda p: [p]), ("E002", lambda p: {**p, "uid": ""}), ("E003", lambda p: {**p, "eventName": 1}),
    ("E004", lambda p: {**p, "platform": "Web"}), ("W101", lambda p: {**p, "eventName": "level_up"}),
    ("W102", lambda p: {**p, "itemId": "x"}), ("W106", lambda p: {**p, "uid": "jane@example.com"}),
)


def naive_invalid_events() -> st.SearchStrategy[tuple[Any, str]]:
    return st.tuples(naive_events(), st.sampled_from(_NAIVE_MUTATIONS)).map(lambda t: (t[1][1](t[0]), t[1][0]))


# -- measuring ----------------------------------------------------------------------------
def rate(strategy: st.SearchStrategy[Any], n: int, bulk: int) -> float:
    """Payloads delivered per second when a @given test draws `n` of them, `bulk` per test case."""
    delivered = 0
    drawn = st.lists(strategy, min_size=bulk, max_size=bulk) if bulk > 1 else st.tuples(strategy)

    @settings(max_examples=max(1, n // bulk), database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(drawn)
    def run(batch: Any) -> None:
        nonlocal delivered
        delivered += len(batch)

    start = time.process_time()
    run()
    return delivered / (time.process_time() - start)


def frame_rate(backend: str, n: int, size: int) -> float:
    """Rows delivered per second by `event_frames(backend=...)`, frames of `size` rows."""
    delivered = 0

    @settings(max_examples=max(1, n // size), database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(event_frames(min_size=size, max_size=size, invalid_rate=0.1, backend=backend))
    def run(frame: Any) -> None:
        nonlocal delivered
        delivered += len(frame)

    start = time.process_time()
    run()
    return delivered / (time.process_time() - start)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="payloads per run (default 2000)")
    ap.add_argument("--repeats", type=int, default=5, help="runs per figure; the median is shown (default 5)")
    ap.add_argument("--bulk", type=int, default=100, help="payloads per test case in bulk mode (default 100)")
    args = ap.parse_args(argv)

    # sanity: each strategy draws what it claims (the baseline's free text may draw warnings, never errors)
    for p in st.lists(naive_events(), min_size=20, max_size=20).example():
        assert validate_event(p).ok, p
    for p in st.lists(events(), min_size=50, max_size=50).example():
        assert validate_event(p).violations == [], p
    for p, rule in st.lists(invalid_events(), min_size=50, max_size=50).example():
        assert rule in validate_event(p, strict=True).rules, (p, rule)

    rows = [
        ("valid", "naive fixed_dictionaries (baseline)", naive_events()),
        ("valid", "adrop_kit events()", events()),
        ("invalid", "naive mutation (baseline)", naive_invalid_events()),
        ("invalid", "adrop_kit invalid_events()", invalid_events()),
    ]
    runs: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.repeats):
        for _kind, label, strategy in rows:
            for bulk in (1, args.bulk):
                runs.setdefault((label, bulk), []).append(rate(strategy, args.n, bulk))
    print(f"payloads/s (CPU time), median of {args.repeats} runs of {args.n} payloads each")
    print(f"{'kind':8} {'strategy':38} {'one by one':>11} {f'bulk x{args.bulk}':>11}")
    for kind, label, _strategy in rows:
        one, bulk = (statistics.median(runs[label, b]) for b in (1, args.bulk))
        print(f"{kind:8} {label:38} {one:11,.0f} {bulk:11,.0f}")

    frames = {b: statistics.median(frame_rate(b, args.n, args.bulk) for _ in range(args.repeats))
              for b in ("polars", "pandas")}
    print(f"\nrows/s (CPU time) of event_frames(invalid_rate=0.1), frames of {args.bulk} rows, frame building included")
    for backend, value in frames.items():
        print(f"frames   {'adrop_kit event_frames(backend=' + repr(backend) + ')':38} {value:11,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
