"""The validation benchmark: adrop_kit.validate_events against two baselines, on 1M mixed events.

Contenders, all given the same typed frame (`sample_frame(rows, seed=1)` without `_truth`):
  adrop_kit  `adrop_kit.validate_events(frame)`: every rule, a full violations report
  pandera    `validate_events(frame, engine="pandera")`: the same report, each batch judged by the
             pandera models (`adrop_kit.validate.schemas`: a check per rule on its column); the
             ratio to adrop_kit is printed (`--pandera-only`: these two alone)
  polars     a hand-vectorised polars baseline: ONE `select` that says "this row has an error"
             (E002-E008 from the catalog), nothing else; the practical speed limit
  pydantic   pydantic v2, one model per event built from the catalog, `model_validate` per row
             dict; `frame.to_dicts()` happens before the clock starts (it is not timed)
Each contender runs in a fresh process (this script with `--only NAME`), so its peak RSS is its
own: peak resident memory during the timed runs minus the resident memory once the data was
loaded. Times are the median of `--repeats` runs. Each contender's invalid rows are compared with
the planted truth (errors only), so a fast but wrong contender shows. Then file → report: the
sample is written as JSONL, Parquet and CSV and `validate_events(path)` is timed on each, beside
the plain way to check a JSONL file (`orjson.loads` + pydantic `model_validate` per line, runs
alternated with ours), and the ratios JSONL/baseline, JSONL/Parquet and CSV/Parquet are printed,
with what polars' own parsers alone take on the same files (no rule, no exactness): the floor of
any reader built on them.

Then the same file → report on realistic data (`benchmarks/realistic.py`: rare custom events with
their own keys, integral and fractional prices in one column, nulls, non-ASCII text, escapes, 3%
broken rows) as JSONL, CSV and Parquet, beside the orjson + pydantic loop on the JSONL: the ratios
JSONL/baseline (target <= 1.0x) and CSV/Parquet (<= 1.5x).

    .venv/bin/python benchmarks/validate.py [--rows 1000000] [--repeats 3] [--no-files | --files-only]
                                            [--no-realistic | --realistic-only]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import realistic  # benchmarks/realistic.py, beside this script

from adrop_kit import STANDARD, Catalog
from adrop_kit.explore.synth import TRUTH, sample_frame, write_sample
from adrop_kit.spec.catalog import PLATFORMS

CONTENDERS = {"adrop_kit": "adrop_kit.validate_events",
              "adrop_kit_pandera": "validate_events(engine='pandera')",
              "polars_all": "hand polars, all rules (1 select)",
              "polars": "hand polars, errors only (1 select)",
              "pydantic": "pydantic v2 per row"}
RESULT = "RESULT "


# -- memory ------------------------------------------------------------------------------
def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0), so the peak measures only what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    kb = _status_kb("VmHWM")
    return kb / 1024 if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the hand-vectorised polars baseline ----------------------------------------------------
def _type_bad(col: pl.Expr, ptype: str, dtype: pl.DataType) -> pl.Expr | None:
    """E006/E008 by dtype: a typed column needs at most a finiteness check; other dtypes a cast check."""
    if ptype == "string":
        return None if dtype == pl.String else col.is_not_null()
    if ptype == "boolean":
        return None if dtype == pl.Boolean else col.is_not_null()
    if dtype.is_integer():
        return None
    if dtype.is_float():
        bad = col.is_nan() | col.is_infinite()
        return bad | (col.round(0) != col) if ptype == "integer" else bad
    if dtype == pl.String:
        return col.is_not_null() & col.cast(pl.Float64, strict=False).is_null()
    return col.is_not_null()


def _event_in(catalog: Catalog):  # noqa: ANN202
    """`eventName in events` as an integer-code lookup (one hash per row, shared by every check via CSE)."""
    index = {n: i for i, n in enumerate(catalog.names)}
    code = pl.col("eventName").replace_strict(index, default=-1, return_dtype=pl.Int16)
    return lambda events: code.is_in([index[e] for e in events])


def polars_error_expr(catalog: Catalog, schema: pl.Schema) -> pl.Expr:
    """One boolean expression: the row breaks one of E002-E008 (per-event rules come from the catalog)."""
    ev = pl.col("eventName")
    ev_in = _event_in(catalog)
    conds = [pl.col("uid").is_null() | (pl.col("uid").str.strip_chars() == ""),  # E002
             ev.is_null() | (ev == ""),  # E003
             pl.col("platform").is_not_null() & ~pl.col("platform").is_in(list(PLATFORMS))]  # E004
    for name, ptype in catalog.param_types.items():
        listed = [e.name for e in catalog if name in e.param_names]
        required = [e.name for e in catalog if any(p.name == name and p.required for p in e.params)]
        if name not in schema:
            if required:
                conds.append(ev_in(required))
            continue
        col = pl.col(name)
        if ptype == "items":
            el = pl.element().struct.field
            item_bad = el("item_id").is_null() | (el("item_id") == "")
            for iname, itype in catalog.item_types.items():
                check = _type_bad(el(iname), itype, schema[name].inner.to_schema()[iname])  # type: ignore[union-attr]
                item_bad = item_bad if check is None else item_bad | check
            conds += [ev_in(required) & (col.is_null() | (col.list.len() == 0)),  # E007
                      ev_in(listed) & (col.list.len() == 0),
                      ev_in(listed) & col.list.eval(item_bad).list.any()]  # E008
            continue
        if required:  # E005
            missing = col.is_null() | (col == "") if ptype == "string" and schema[name] == pl.String else col.is_null()
            conds.append(ev_in(required) & missing)
        type_bad = _type_bad(col, ptype, schema[name])
        if type_bad is not None:  # E006
            conds.append(ev_in(listed) & type_bad)
    return pl.any_horizontal(conds).fill_null(False)


def polars_warning_expr(catalog: Catalog, schema: pl.Schema) -> pl.Expr:
    """One boolean expression: the row trips one of W101-W107 (by hand, the same heuristics as the rules)."""
    from adrop_kit.spec.rules import CURRENCY_PATTERN, EMAIL_PATTERN, PHONE_PATTERN

    ev = pl.col("eventName")
    ev_in = _event_in(catalog)
    uid = pl.col("uid")
    conds = [ev.is_not_null() & ~ev_in(catalog.names),  # W101
             uid.str.contains(f"^(?:{EMAIL_PATTERN})$|^(?:{PHONE_PATTERN})$")]  # W106
    for name in schema.names():
        if name in ("uid", "eventName", "platform", "ts", TRUTH):
            continue
        listed = [e.name for e in catalog if name in e.param_names]
        conds.append(ev_in(catalog.names) & ~ev_in(listed) & pl.col(name).is_not_null())  # W102
    for name in ("price", "value"):
        if name in schema:
            conds.append(pl.col(name) < 0)  # W103
    if "quantity" in schema:
        conds.append(pl.col("quantity") < 1)
    if "items" in schema:
        el = pl.element().struct.field
        conds.append(pl.col("items").list.eval((el("price") < 0) | (el("quantity") < 1)).list.any())
    if "currency" in schema:
        conds.append(~pl.col("currency").str.contains(f"^(?:{CURRENCY_PATTERN})$"))  # W104
    if {"value", "price", "quantity"} <= set(schema.names()):
        expected = pl.col("price") * pl.col("quantity")
        conds.append((ev == "add_to_cart") & ((pl.col("value") - expected).abs()
                                              > 1e-6 * pl.max_horizontal(pl.lit(1.0), expected.abs())))  # W105
    if "tx_id" in schema:  # W107: a purchase whose tx_id an earlier purchase already used
        tx = pl.when(ev == "purchase").then(pl.col("tx_id"))  # null outside purchases
        conds.append(tx.is_not_null() & ~tx.is_first_distinct())
    return pl.any_horizontal(conds).fill_null(False)


# -- pydantic v2 -------------------------------------------------------------------------------
def pydantic_models(catalog: Catalog) -> tuple[dict[str, Any], Any]:
    """One model per event (and an envelope-only model for names outside the catalog)."""
    from typing import Annotated, Literal, Optional, Union

    from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, create_model

    def integral(x: float) -> float:
        if not x.is_integer():
            raise ValueError("not an integer")
        return x

    number = Union[StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=False)]]  # noqa: UP007
    types: dict[str, Any] = {"string": StrictStr, "number": number, "boolean": StrictBool,
                             "integer": Union[StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=False),  # noqa: UP007
                                                                   AfterValidator(integral)]]}
    non_empty = Annotated[StrictStr, Field(min_length=1)]
    config = ConfigDict(extra="ignore")

    def fields(params: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in params:
            t = types[p.type] if p.type != "items" else Annotated[list[item], Field(min_length=1)]
            if p.required and p.type == "string":
                t = non_empty
            out[p.name] = (t, ...) if p.required else (Optional[t], None)  # noqa: UP045
        return out

    item = create_model("Item", __config__=config, **fields(catalog.item_params))
    envelope = {"uid": (Annotated[StrictStr, Field(pattern=r"\S")], ...),
                "platform": (Optional[Literal[PLATFORMS]], None)}  # noqa: UP045
    models = {e.name: create_model(f"Event_{e.name}", __config__=config, eventName=(Literal[e.name], ...),
                                   **envelope, **fields(e.params)) for e in catalog}
    unknown = create_model("Event_custom", __config__=config, eventName=(non_empty, ...), **envelope)
    return models, unknown


# -- one contender, in this (fresh) process -------------------------------------------------
def _median_run(fn: Callable[[], list[int]], repeats: int) -> tuple[float, list[int]]:
    times, rows = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), rows


def run_one(name: str, data: Path, repeats: int) -> dict[str, Any]:
    frame = pl.read_parquet(data)
    truth = set(frame.select(pl.arg_where(pl.col(TRUTH).str.starts_with("E"))).to_series().to_list())
    frame = frame.drop(TRUTH)
    note = ""
    if name in ("adrop_kit", "adrop_kit_pandera"):
        engine = "pandera" if name == "adrop_kit_pandera" else "polars"
        try:
            from adrop_kit import validate_events
            validate_events(frame.head(100), engine=engine)  # imports and warms up; fails if not written yet
        except (ImportError, AttributeError, NotImplementedError) as exc:
            return {"name": name, "status": f"not available yet ({type(exc).__name__}: {exc})"}

        def fn() -> list[int]:
            report = validate_events(frame, engine=engine)
            return report.errors.get_column("row").unique().to_list()
    elif name == "polars_all":  # the same rules as ours, errors and warnings: a yes/no each per row
        errors = polars_error_expr(STANDARD, frame.schema).alias("e")
        warnings = polars_warning_expr(STANDARD, frame.schema).alias("w")

        def fn() -> list[int]:
            flags = frame.lazy().select(errors, warnings).collect()
            return flags.get_column("e").arg_true().to_list()
    elif name == "polars":
        expr = polars_error_expr(STANDARD, frame.schema)

        def fn() -> list[int]:  # lazy: the eager `frame.select` peaked at +446 MB and ran 2x slower here
            return frame.lazy().select(expr).collect().to_series().arg_true().to_list()
    else:
        models, unknown = pydantic_models(STANDARD)
        from pydantic import ValidationError

        t = time.perf_counter()
        dicts = frame.to_dicts()
        note = f"to_dicts() {time.perf_counter() - t:.1f} s, not timed"
        del frame

        def fn() -> list[int]:
            bad = []
            get = models.get
            for i, row in enumerate(dicts):
                try:
                    get(row["eventName"], unknown).model_validate(row)
                except ValidationError:
                    bad.append(i)
            return bad
    gc.collect()
    exact_peak = _reset_peak()
    base = _rss_mb()
    seconds, found = _median_run(fn, repeats)
    peak = max(0.0, _peak_mb() - base)
    found_set = set(found)
    return {"name": name, "status": "ok", "seconds": seconds, "peak_mb": peak, "exact_peak": exact_peak,
            "invalid": len(found_set), "planted": len(truth), "missed": len(truth - found_set),
            "extra": len(found_set - truth), "note": note}


def _child(name: str, data: Path, repeats: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--only", name, "--data", str(data), "--repeats", str(repeats)],
                          capture_output=True, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"name": name, "status": f"failed (exit {proc.returncode}): {tail}"}


# -- the report ---------------------------------------------------------------------------
def _fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>12,.0f}" if seconds > 0 else f"{'-':>12}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-files", action="store_true", help="skip the file → report part")
    ap.add_argument("--files-only", action="store_true", help="only the file → report part")
    ap.add_argument("--no-realistic", action="store_true", help="skip the realistic data (benchmarks/realistic.py)")
    ap.add_argument("--realistic-only", action="store_true", help="only file → report on the realistic data")
    ap.add_argument("--pandera-only", action="store_true",
                    help="only validate_events with the polars and the pandera engine, in memory")
    ap.add_argument("--only", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.only:
        print(RESULT + json.dumps(run_one(args.only, args.data, args.repeats)), flush=True)
        return 0

    rows, repeats = args.rows, max(1, args.repeats)
    if args.realistic_only:
        with tempfile.TemporaryDirectory(prefix="adrop-bench-") as tmp:
            realistic.run(Path(tmp), rows, args.seed, repeats)
        return 0
    print(f"Validation benchmark: {rows:,} events, median of {repeats} run(s), one fresh process per contender")
    t = time.perf_counter()
    frame = sample_frame(rows, seed=args.seed)
    synth_s = time.perf_counter() - t
    truth = frame.get_column(TRUTH)
    planted = int(truth.str.starts_with("E").sum())
    print(f"data: sample_frame({rows:,}, seed={args.seed}) in {synth_s:.2f} s; planted: {planted:,} rows with an "
          f"error ({planted / max(rows, 1):.1%}), {int(truth.str.starts_with('W').sum()):,} with a warning")
    if args.files_only:
        with tempfile.TemporaryDirectory(prefix="adrop-bench-") as tmp:
            _files(Path(tmp), rows, args.seed, repeats, True)
            if not args.no_realistic:
                realistic.run(Path(tmp), rows, args.seed, repeats)
        return 0
    with tempfile.TemporaryDirectory(prefix="adrop-bench-") as tmp:
        data = Path(tmp) / "frame.parquet"
        frame.write_parquet(data)
        del frame
        names = ("adrop_kit", "adrop_kit_pandera") if args.pandera_only else CONTENDERS
        results = {name: _child(name, data, repeats) for name in names}
        print()
        print(f"{'contender':<36}{'seconds':>9}{'rows/s':>13}{'peak MB':>9}{'invalid':>9}"
              f"{'missed':>8}{'extra':>7}  note")
        for name, label in CONTENDERS.items():
            if name not in results:
                continue
            r = results[name]
            if r["status"] != "ok":
                print(f"{label:<36}  {r['status']}")
                continue
            verdict = "" if r["missed"] == r["extra"] == 0 else "  ← disagrees with the planted truth"
            peak = f"{r['peak_mb']:.0f}" if r["peak_mb"] >= 10 else f"{r['peak_mb']:.1f}"
            print(f"{label:<36}{r['seconds']:>9.3f}{_fmt_rate(rows, r['seconds'])}{peak:>9}"
                  f"{r['invalid']:>9,}{r['missed']:>8,}{r['extra']:>7,}  {r['note']}{verdict}")
        print(f"{'planted truth (errors only)':<36}{'':>9}{'':>13}{'':>9}{planted:>9,}")
        ok = {k: v for k, v in results.items() if v["status"] == "ok"}
        if "adrop_kit" in ok and "polars_all" in ok:
            ratio = ok["adrop_kit"]["seconds"] / ok["polars_all"]["seconds"]
            met = "met" if ratio <= 1.5 else "NOT met"
            print(f"\nours / hand polars, same rules: {ratio:.2f}x (target <= 1.5x: {met}"
                  "; the price of a full report with messages over a yes/no per row)")
        if "adrop_kit" in ok and "adrop_kit_pandera" in ok:
            ratio = ok["adrop_kit_pandera"]["seconds"] / ok["adrop_kit"]["seconds"]
            print(f"pandera engine / polars engine: {ratio:.2f}x (the same report through pandera's runner)")
            if args.pandera_only:
                return 0
        if "adrop_kit" in ok and "polars" in ok:
            print(f"ours / hand polars, errors only: {ok['adrop_kit']['seconds'] / ok['polars']['seconds']:.2f}x "
                  "(a lower bound that skips every warning)")
        if "adrop_kit" in ok and "pydantic" in ok:
            ratio = ok["pydantic"]["seconds"] / ok["adrop_kit"]["seconds"]
            print(f"pydantic / ours time:            {ratio:.2f}x (target >= 3x: {'met' if ratio >= 3 else 'NOT met'})")
        if not all(v.get("exact_peak", True) for v in ok.values()):
            print("note: the kernel would not reset the peak-RSS mark; peak MB may be understated")
        if not args.no_files:
            _files(Path(tmp), rows, args.seed, repeats, "adrop_kit" in ok)
            if not args.no_realistic and "adrop_kit" in ok:
                realistic.run(Path(tmp), rows, args.seed, repeats)
    return 0


def jsonl_baseline(path: Path) -> int:
    """The plain way to check a JSONL file: `orjson.loads` + pydantic `model_validate` per line.
    Returns the number of invalid lines (not JSON, not an object, or refused by the model)."""
    import orjson
    from pydantic import ValidationError

    models, unknown = pydantic_models(STANDARD)
    get = models.get
    bad = 0
    with open(path, "rb") as fh:
        for line in fh:
            if line.isspace():
                continue
            try:
                row = orjson.loads(line)
                get(row.get("eventName"), unknown).model_validate(row)
            except (ValidationError, orjson.JSONDecodeError, AttributeError):
                bad += 1
    return bad


def _files(tmp: Path, rows: int, seed: int, repeats: int, available: bool) -> None:
    print(f"\nfile → report: validate_events(path), {rows:,} rows, median of {repeats}; each repeat runs every "
          "contender once, in turn, so all see the same moments of a shared machine")
    if not available:
        print("  adrop_kit.validate_events: not available yet")
        return
    from adrop_kit import validate_events

    paths, written = {}, {}
    for suffix in (".parquet", ".csv", ".jsonl"):
        paths[suffix[1:]] = path = tmp / f"sample{suffix}"
        t = time.perf_counter()
        write_sample(path, rows, seed=seed)
        written[suffix[1:]] = time.perf_counter() - t
    baseline = "jsonl, orjson + pydantic per line (baseline)"
    floors = {"jsonl": "jsonl, polars read_ndjson alone (floor)", "csv": "csv, polars read_csv alone (floor)"}
    contenders: list[tuple[str, Path, Callable[[Path], Any]]] = [
        *((name, path, validate_events) for name, path in paths.items()), (baseline, paths["jsonl"], jsonl_baseline),
        (floors["jsonl"], paths["jsonl"], read_ndjson_floor), (floors["csv"], paths["csv"], read_csv_floor)]
    for name, _, fn in contenders:  # imports and first calls, untimed, on 1,000 rows of each format
        warm = tmp / f"warm.{name if name in paths else name.split(',')[0]}"
        if not warm.exists():
            write_sample(warm, 1000, seed=seed)
        fn(warm)
    times: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, path, fn in contenders:
            t = time.perf_counter()
            results[name] = fn(path)
            times[name].append(time.perf_counter() - t)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, path, _ in contenders:
        r, secs = results[name], medians[name]
        if name in floors.values():  # parsing only: no rule is checked, no invalid count
            print(f"  {name:<8} {path.stat().st_size / 1e6:>7.0f} MB  {secs:>7.2f} s {_fmt_rate(rows, secs)} rows/s")
            continue
        invalid = r if isinstance(r, int) else r.invalid
        note = f"   (written in {written[name]:.1f} s)" if name in written else ""
        print(f"  {name:<8} {path.stat().st_size / 1e6:>7.0f} MB  {secs:>7.2f} s {_fmt_rate(rows, secs)} rows/s   "
              f"invalid {invalid:,}{note}")
        if not isinstance(r, int) and r.rows != rows:
            print(f"  !! {r.rows:,} rows reported for {rows:,} written")
    for path in paths.values():
        path.unlink()
    base, pq = medians[baseline], medians["parquet"]
    for label, ratio, target in (("jsonl / baseline", medians["jsonl"] / base, 0.5),
                                 ("jsonl / parquet ", medians["jsonl"] / pq, 2.0),
                                 ("csv / parquet   ", medians["csv"] / pq, 1.5)):
        print(f"  {label} {ratio:5.2f}x (target <= {target}x: {'met' if ratio <= target else 'NOT met'})")
    print("  what parsing alone costs, before any rule is checked (polars' own parsers, as fast as they go):")
    for fmt, target in (("jsonl", 2.0), ("csv", 1.5)):
        floor = medians[floors[fmt]]
        print(f"    {fmt}: the parse alone is {floor / pq:.2f}x our parquet path (the whole {fmt} budget is "
              f"{target}x); ours spends {medians[fmt] - floor:.2f} s more on exactness and the checks")


def read_ndjson_floor(path: Path) -> int:
    """polars' `read_ndjson` of the file with the catalog's types: the parse alone, no rule, none of
    the no-coercion guarantees (it turns numbers in string fields into text, keeps the first of two
    equal keys, fails the whole file on one bad line). A floor for any reader built on it."""
    schema = {k: {"string": pl.String, "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean}[t]
              for k, t in STANDARD.param_types.items() if t != "items"}
    schema.update(uid=pl.String, eventName=pl.String, platform=pl.String, ts=pl.String)
    return pl.read_ndjson(path, schema=schema).height


def read_csv_floor(path: Path) -> int:
    """polars' `read_csv` of the file, every column as text: the parse alone, no rule or typing."""
    return pl.read_csv(path, infer_schema=False).height


if __name__ == "__main__":
    sys.exit(main())
