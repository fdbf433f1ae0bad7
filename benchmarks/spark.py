"""Spark benchmark (not a test; `make bench` does not run it: it needs Java and minutes).

    .venv/bin/python benchmarks/spark.py                       # 5,000,000 rows, local[2], 3 repeats
    .venv/bin/python benchmarks/spark.py --rows 500000 --repeats 1

The same Spark DataFrame (`spark.read.parquet` of `synth.sample_frame(rows, seed=1)`: 3% planted
errors, 1% planted warnings) is checked by:

- `adrop_kit.spark.validate(sdf)`: every rule, per row, on each partition through mapInArrow, W107
  global; exact counts (rows, valid, invalid, warned) and the violations table (cached, counted);
- pandera's own pyspark backend (`pandera.pyspark.DataFrameSchema.validate`) with equivalent checks
  built from the same catalog: types, uid present and not blank, eventName known, platform known, each
  event's required parameters present and not blank (a custom check per parameter), items present and
  well-formed for the events that need them, price >= 0, quantity >= 1, currency ISO-like. pandera's
  pyspark backend answers pass/fail per check (it reports no rows), so it does less than ours;
- and, for scale, our single process: `validate_events(path)` on the same Parquet file.

Times are medians of `--repeats` runs, each after a warm-up; Spark's startup is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")


def pandera_pyspark() -> types.ModuleType:
    """`pandera.pyspark`. It imports `pyspark.pandas`, which does not import under pandas 3 (this venv's);
    pandera's pyspark.sql path does not use it, so a placeholder module stands in for it."""
    try:
        import pyspark.pandas  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pyspark.pandas")
        stub.__path__ = []  # a package, for `pyspark.pandas.extensions`
        classes: dict[str, type] = {}

        def placeholder(name: str) -> type:  # any pandas-on-Spark class: nothing is ever an instance of it
            if name.startswith("__"):
                raise AttributeError(name)
            return classes.setdefault(name, type(name, (), {"__class_getitem__": classmethod(lambda cls, i: cls)}))

        stub.__getattr__ = placeholder  # PEP 562
        extensions = types.ModuleType("pyspark.pandas.extensions")
        for name in ("register_dataframe_accessor", "register_series_accessor"):  # pandas-on-Spark accessors
            setattr(extensions, name, lambda accessor_name: (lambda cls: cls))
        sys.modules["pyspark.pandas"], sys.modules["pyspark.pandas.extensions"] = stub, extensions
    import pandera.pyspark as pa

    return pa


def pandera_schema(pa: types.ModuleType, catalog) -> object:  # noqa: ANN001
    from pandera.extensions import register_check_method
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from adrop_kit.spec.catalog import ITEMS, PLATFORMS
    from adrop_kit.spec.rules import CURRENCY_PATTERN

    @register_check_method(check_type="element_wise")  # registered once per process
    def required_for(pyspark_obj, *, events: list[str]) -> bool:  # noqa: ANN001
        col = F.col(pyspark_obj.column_name)
        missing = F.col("eventName").isin(events) & (col.isNull() | (F.trim(col.cast("string")) == ""))
        return pyspark_obj.dataframe.where(missing).limit(1).count() == 0

    @register_check_method(check_type="element_wise")
    def items_ok(pyspark_obj, *, events: list[str]) -> bool:  # noqa: ANN001
        items = F.col(pyspark_obj.column_name)
        good_item = F.forall(items, lambda i: i.isNotNull() & i["item_id"].isNotNull() & (F.trim(i["item_id"]) != ""))
        bad = F.col("eventName").isin(events) & (items.isNull() | (F.size(items) == 0) | ~good_item)
        return pyspark_obj.dataframe.where(bad).limit(1).count() == 0

    spark_type = {"string": T.StringType(), "number": T.DoubleType(), "integer": T.LongType(),
                  "boolean": T.BooleanType()}
    required: dict[str, list[str]] = {}
    for event in catalog:
        for p in event.params:
            if p.required:
                required.setdefault(p.name, []).append(event.name)
    cols = {
        "uid": pa.Column(T.StringType(), nullable=False, checks=[pa.Check.str_matches(r"\S")]),
        "eventName": pa.Column(T.StringType(), nullable=False, checks=[pa.Check.isin([e.name for e in catalog])]),
        "platform": pa.Column(T.StringType(), nullable=True, checks=[pa.Check.isin(list(PLATFORMS))]),
    }
    for name, kind in catalog.param_types.items():
        checks = []
        if name in required and name != ITEMS:
            checks.append(pa.Check.required_for(events=required[name]))
        if name == "price":
            checks.append(pa.Check.ge(0))
        if name == "quantity":
            checks.append(pa.Check.ge(1))
        if name == "currency":
            checks.append(pa.Check.str_matches(f"^{CURRENCY_PATTERN}$"))
        if kind == "items":
            cols[name] = pa.Column(None, nullable=True, checks=[pa.Check.items_ok(events=required.get(ITEMS, []))])
        else:
            cols[name] = pa.Column(spark_type[kind], nullable=True, checks=checks)
    return pa.DataFrameSchema(cols, strict=False)


def median_time(name: str, fn, repeats: int, *, warm: bool = True) -> tuple[float, object]:  # noqa: ANN001
    if warm:
        fn()  # warm-up (Python workers, file cache)
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    print(f"  {name}: {', '.join(f'{x:.2f}' for x in times)} s", flush=True)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--slow-repeats", type=int, default=1,
                    help="runs of the slow contenders (ours through the JVM, pandera on clean data); no warm-up")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    import polars as pl

    from adrop_kit import validate_events
    from adrop_kit.explore.synth import ERROR_RULES, sample_frame
    from adrop_kit.spark import get_session, validate
    from adrop_kit.spec.catalog import resolve

    tmp = Path(tempfile.mkdtemp(prefix="adrop-spark-bench-"))
    t = time.perf_counter()
    frame = sample_frame(args.rows, seed=1)
    planted_invalid = frame.filter(pl.col("_truth").is_in(ERROR_RULES)).height
    path, clean = tmp / "sample.parquet", tmp / "clean.parquet"
    frame.write_parquet(path, row_group_size=256_000)
    del frame
    sample_frame(args.rows, seed=2, error_rate=0, warning_rate=0).write_parquet(clean, row_group_size=256_000)
    print(f"{args.rows:,} rows written to {path} in {time.perf_counter() - t:.1f} s; "
          f"{planted_invalid:,} rows carry a planted error (and as many clean rows to {clean.name})", flush=True)

    spark = get_session(args.master)
    sdf = spark.read.parquet(str(path))
    print(f"Spark {spark.version} on {args.master}, {sdf.rdd.getNumPartitions()} partitions", flush=True)
    pa = pandera_pyspark()
    schema = pandera_schema(pa, resolve(None))

    def ours(data):  # noqa: ANN001, ANN202
        def run():  # noqa: ANN202
            report = validate(data, spark=spark)
            report.violations.count()  # the whole violations table, W107 included, is built
            report.unpersist()
            return report
        return run

    def theirs(data):  # noqa: ANN001, ANN202
        return lambda: schema.validate(data).pandera.errors

    results = []
    path_s, report = median_time("ours, path", ours(str(path)), args.repeats)
    results.append(("adrop_kit.spark.validate(path)", path_s, report.summary()))
    theirs_s, errors = median_time("pandera, mixed", theirs(sdf), args.repeats)
    failed = sorted({str(e.get("check")) for kinds in dict(errors).values() for checks in kinds.values()
                     for e in checks} if errors else [])
    results.append(("pandera.pyspark, same DataFrame", theirs_s, f"{len(failed)} checks fail (each stops early)"))
    df_s, df_report = median_time("ours, DataFrame", ours(sdf), args.slow_repeats, warm=False)
    results.append(("adrop_kit.spark.validate(DataFrame)", df_s, df_report.summary()))
    clean_sdf = spark.read.parquet(str(clean))
    clean_s, clean_errors = median_time("pandera, clean", theirs(clean_sdf), args.slow_repeats, warm=False)
    clean_failed = sorted({str(e.get("check")) for kinds in dict(clean_errors or {}).values()
                           for checks in kinds.values() for e in checks})
    results.append(("pandera.pyspark, clean data (full scans)", clean_s, f"fails: {', '.join(clean_failed) or '-'}"))
    ours_clean_s, ours_clean = median_time("ours, clean path", ours(str(clean)), args.slow_repeats, warm=False)
    results.append(("adrop_kit.spark.validate(clean path)", ours_clean_s, ours_clean.summary()))
    local_s, local_report = median_time("single process", lambda: validate_events(path), args.repeats)
    results.append(("validate_events(path), 1 process", local_s, local_report.summary()))

    print()
    print(f"{'contender':42} {'seconds':>9} {'rows/s':>12}  result")
    for name, s, res in results:
        print(f"{name:42} {s:9.2f} {args.rows / s:12,.0f}  {res}")
    exact = (report.summary() == local_report.summary() == df_report.summary()
             and report.invalid == planted_invalid)
    print(f"\nexact: Spark's counts (path and DataFrame) == validate_events' counts, invalid == planted: {exact}")
    print(f"mixed data: pandera.pyspark / ours(path): {theirs_s / path_s:.2f}x; / ours(DataFrame): "
          f"{theirs_s / df_s:.2f}x")
    print(f"clean data: pandera.pyspark / ours(path): {clean_s / ours_clean_s:.2f}x")
    print(f"ours(path) / single process: {path_s / local_s:.2f}x")
    print(f"(failing pandera checks on the mixed data: {', '.join(failed) or 'none'})")


if __name__ == "__main__":
    main()
