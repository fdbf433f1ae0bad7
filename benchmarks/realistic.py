"""Realistic event exports, written from SPEC.md alone (not from adrop_kit's readers): the benchmark's
second data set, beside `adrop_kit.explore.synth.write_sample`.

What real exports carry and clean synthetic data lacks:
- the 13 catalog events in shop-like proportions, with optional parameters sometimes given,
  sometimes absent and sometimes `null` (SPEC: null is an absent key);
- prices integral in one row and fractional in the next, in one column (KRW `29900`, USD `14.99`,
  now and then `29900.0`); `value` likewise;
- rare custom events with their own keys (W101/W102 territory): `level_up` with `level` (0.2%),
  `share` with `share_target` (0.05%), `tutorial_complete` with `duration_ms` and `success`
  (0.1%), and a rare key typed differently across lines (`score`: an integer, then a string);
- non-ASCII text (Korean product names, emoji, accents), escapes (quotes, backslashes, `\\n`, `\\/`,
  `\\uXXXX` when a line is written ASCII-only), lines spaced as `json.dumps` spaces them;
- a few percent broken rows (`broken`, 3% by default): E001 text (cut short, a trailing comma, not an
  object, NaN), E002 (no uid, blank uid), E003, E004, E005, E006 (`"12,900"` as a price, `1.5` as a
  quantity), E007, E008.

`realistic_events(n, seed)` yields (event, JSONL line) pairs; `write_realistic(path, n)` writes
`.jsonl`, or `.csv` / `.parquet` of the same events; `write_formats` all three, drawn once.
Columnar files cannot hold a line that is not JSON (such a row has every envelope field wrong
instead) or a value of another JSON type in a typed column (`"12,900"` as a price is left out).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

PLATFORMS = ("web", "android", "ios")
NAMES = ["무선 이어폰", "스마트 워치", "가죽 지갑", "캠핑 의자", "Café crème 원두 1kg", "러닝화 👟", "USB-C 케이블 2m",
         'Monitor 27" 4K', "Back\\slash bag", "Line\nbreak tee", "북유럽 머그컵", "Crème brûlée kit",
         "あいう 문구 세트"]
CATEGORIES = ["전자기기", "패션", "스포츠/아웃도어", "생활", "식품", "books", "Beauté"]
BRANDS = ["Adrop", "삼성", "LG", "Nike", "무인양품", None]
PAGES = ["home", "search", "category/신상품", "cart", "event/블랙프라이데이", "https://shop.example/p?id=1&x=2"]
WEIGHTS = {"app_open": 6, "sign_up": 1, "push_clicks": 2, "page_view": 25, "click": 12, "view_item": 22,
           "add_to_wishlist": 3, "add_to_cart": 9, "begin_checkout": 4, "purchase": 3, "view_content": 8,
           "begin_lead_form": 1.5, "generate_lead": 1}
CUSTOM = {"level_up": 0.002, "tutorial_complete": 0.001, "share": 0.0005, "game_score": 0.0003}


def _price(rng: random.Random, currency: str) -> int | float:
    if currency == "USD":
        return round(rng.uniform(1, 300), 2)
    p = rng.randrange(10, 3000) * 100
    return float(p) if rng.random() < 0.05 else p  # now and then written 29900.0


def _item(rng: random.Random, currency: str) -> dict[str, Any]:
    item: dict[str, Any] = {"item_id": f"SKU-{rng.randrange(100000):05d}", "item_name": rng.choice(NAMES),
                            "price": _price(rng, currency), "quantity": rng.choice((1, 1, 1, 2, 3))}
    if rng.random() < 0.5:
        item["item_category"] = rng.choice(CATEGORIES)
    if rng.random() < 0.3:
        item["brand"] = rng.choice(BRANDS)
    return item


def _event(rng: random.Random, i: int) -> dict[str, Any]:
    r = rng.random()
    uid = f"user-{rng.randrange(200000)}"
    ts = f"2026-11-{1 + i * 30 // 10**7 % 30:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
    for name, share in CUSTOM.items():
        if r < share:
            e: dict[str, Any] = {"uid": uid, "eventName": name, "platform": rng.choice(PLATFORMS), "ts": ts}
            if name == "level_up":
                e["level"] = rng.randrange(1, 80)
            elif name == "tutorial_complete":
                e.update(duration_ms=rng.randrange(1000, 90000), success=rng.random() < 0.8)
            elif name == "share":
                e["share_target"] = rng.choice(("kakao", "line", "링크 복사"))
            else:
                e["score"] = rng.randrange(1000) if rng.random() < 0.7 else f"{rng.randrange(1000)}점"
            return e
        r -= share
    name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    e = {"uid": uid, "eventName": name, "ts": ts}
    if rng.random() < 0.93:
        e["platform"] = rng.choice(PLATFORMS)
    elif rng.random() < 0.5:
        e["platform"] = None
    currency = "USD" if rng.random() < 0.1 else "KRW"
    if name == "sign_up":
        e["method"] = rng.choice(("email", "kakao", "google", "apple"))
    elif name == "push_clicks":
        e["campaign_id"] = f"cmp-{rng.randrange(50)}"
    elif name == "page_view":
        e["page_id"] = rng.choice(PAGES)
        e["page_category"] = rng.choice((*CATEGORIES, None))
        if rng.random() < 0.3:
            e["page_url"] = "https://shop.example/" + e["page_id"]
    elif name == "click":
        e.update(element_id=f"btn-{rng.randrange(40)}", element_type=rng.choice(("button", "banner", "link")))
        if rng.random() < 0.2:
            e["target_url"] = "https://shop.example/promo?utm_source=앱"
    elif name in ("view_item", "add_to_wishlist", "add_to_cart"):
        e.update({k: v for k, v in _item(rng, currency).items() if k != "quantity"})
        if name == "add_to_cart":
            e["quantity"] = rng.choice((1, 1, 2, 3))
            e["value"] = round(e["price"] * e["quantity"], 2) if currency == "USD" else e["price"] * e["quantity"]
            e["currency"] = currency
    elif name in ("begin_checkout", "purchase"):
        e["items"] = [_item(rng, currency) for _ in range(rng.choice((1, 1, 2, 3)))]
        e["currency"] = currency
        total = sum(it["price"] * it["quantity"] for it in e["items"])
        e["value"] = round(total, 2) if currency == "USD" else total
        if name == "purchase":
            e["tx_id"] = f"T{i:08d}"
    elif name == "view_content":
        e.update(content_id=f"c{rng.randrange(5000)}", content_name=rng.choice(NAMES), content_type="article")
    else:
        e.update(form_id=f"f{rng.randrange(20)}", form_name="상담 신청", form_type=rng.choice(("call", "mail")))
        if name == "generate_lead":
            e.update(value=rng.choice((0, 5000, 12.5)), currency=currency)
    return e


def _break(rng: random.Random, e: dict[str, Any]) -> tuple[dict[str, Any] | None, bytes | None]:
    """One mistake: (the event as broken, or None when the row is not an event; its text when not JSON-made)."""
    k = rng.randrange(12)
    text = orjson.dumps(e)
    if k == 0:
        return None, text[: len(text) // 2]  # cut short
    if k == 1:
        return None, text[:-1] + b",}"  # a trailing comma
    if k == 2:
        return None, b'["' + e["eventName"].encode() + b'"]'  # not an object
    if k == 3:
        e.pop("uid")
    elif k == 4:
        e["uid"] = "  "
    elif k == 5:
        e["eventName"] = ""
    elif k == 6:
        e["platform"] = rng.choice(("Android", "desktop"))
    elif k == 7:
        e["eventName"], e["item_id"] = "view_item", None  # required parameter null: E005
    elif k == 8:
        e["eventName"], e["price"], e["item_id"] = "view_item", "12,900", "SKU-1"  # E006
    elif k == 9:
        e.update(eventName="add_to_cart", item_id="SKU-2", price=100, quantity=1.5)  # E006
    elif k == 10:
        e.update(eventName="purchase", tx_id="T-x", items=[])  # E007
    else:
        e.update(eventName="begin_checkout", items=[{"item_name": "no id"}])  # E008
        if rng.random() < 0.3:
            return e, json.dumps(e, allow_nan=True).replace('"no id"', "NaN").encode()  # NaN: E001
    return e, None


def realistic_events(n: int, *, seed: int = 0, broken: float = 0.03) -> Iterator[tuple[dict[str, Any] | None, bytes]]:
    """(event or None, its JSONL line without the line end), n of them."""
    for e, line, _ in planted_events(n, seed=seed, broken=broken):
        yield e, line


def planted_events(n: int, *, seed: int = 0, broken: float = 0.03
                   ) -> Iterator[tuple[dict[str, Any] | None, bytes, bool]]:
    """`realistic_events` with, for each, whether it was broken on purpose (each such row has an error)."""
    rng = random.Random(seed)
    for i in range(n):
        e: dict[str, Any] | None = _event(rng, i)
        line = None
        planted = rng.random() < broken
        if planted:
            e, line = _break(rng, e)  # type: ignore[arg-type]
        if line is None:
            r = rng.random()
            if r < 0.05:  # written ASCII-only: \uXXXX escapes, \/ now and then
                line = json.dumps(e, ensure_ascii=True).encode()
                if rng.random() < 0.3:
                    line = line.replace(b"/", b"\\/")
            elif r < 0.15:  # spaced as json.dumps spaces
                line = json.dumps(e, ensure_ascii=False).encode()
            else:
                line = orjson.dumps(e)
        yield e, line, planted


def write_realistic(path: str | Path, n: int, *, seed: int = 0, broken: float = 0.03) -> Path:
    """Write n realistic events to `path` (.jsonl, .csv or .parquet); return the path."""
    path = Path(path)
    return write_formats(path.parent, path.stem, n, suffixes=(path.suffix,), seed=seed, broken=broken)[0]


def write_formats(directory: Path, stem: str, n: int, *, suffixes: tuple[str, ...] = (".jsonl", ".csv", ".parquet"),
                  seed: int = 0, broken: float = 0.03) -> list[Path]:
    """The same n events as `directory/stem<suffix>` for each suffix, drawn once."""
    import polars as pl

    if bad := set(suffixes) - {".jsonl", ".csv", ".parquet"}:
        raise ValueError(f"write .jsonl, .csv or .parquet, not {sorted(bad)}")
    events = list(realistic_events(n, seed=seed, broken=broken))
    paths = [directory / f"{stem}{suffix}" for suffix in suffixes]
    frame = None
    for path in paths:
        if path.suffix == ".jsonl":
            with path.open("wb") as fh:
                fh.writelines(line + b"\n" for _, line in events)
            continue
        if frame is None:
            rows = [_columnar(e) for e, _ in events]
            keys: dict[str, None] = {}
            for r in rows:
                keys.update(dict.fromkeys(r))
            frame = pl.DataFrame({k: _column(k, [r.get(k) for r in rows]) for k in keys})
        if path.suffix == ".parquet":
            frame.write_parquet(path)
        else:
            items = frame.get_column("items").to_list() if "items" in frame.columns else []
            cells = [None if v is None else orjson.dumps([{k: x for k, x in it.items() if x is not None} for it in v])
                     .decode() for v in items]
            (frame.with_columns(pl.Series("items", cells, pl.String)) if items else frame).write_csv(path)
    return paths


_NUMBERS = {"price", "value", "quantity", "level", "duration_ms"}


def _columnar(e: dict[str, Any] | None) -> dict[str, Any]:
    """What a typed column can hold of an event."""
    if e is None:  # a line that is not an event in JSONL: a row with every envelope field wrong
        return {"uid": "", "eventName": "", "platform": "broken"}
    out = {}
    for k, v in e.items():
        if k in _NUMBERS and type(v) not in (int, float):
            continue  # "12,900": a typed export has no such cell
        if k == "score":
            v = str(v)
        out[k] = v
    return out


def _column(key: str, values: list[Any]) -> Any:
    import polars as pl

    if key in ("price", "value"):
        return pl.Series(key, values, pl.Float64, strict=False)
    if key == "quantity":  # 1.5 is a float: the column keeps it (a fraction is E006)
        return pl.Series(key, values, pl.Float64 if any(type(v) is float for v in values) else pl.Int64, strict=False)
    if key == "items":
        items = [None if v is None else [{f: it.get(f) for f in ("item_id", "item_name", "item_category", "brand",
                                                                 "price", "quantity")} for it in v] for v in values]
        return pl.Series(key, items, strict=False)
    return pl.Series(key, values, strict=False)


if __name__ == "__main__":
    import sys

    for arg in sys.argv[2:] or ["/tmp/realistic.jsonl"]:
        print(write_realistic(arg, int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))


def run(tmp: Path, rows: int, seed: int, repeats: int) -> dict[str, float]:
    """File → full report on realistic data: `validate_events(path)` on JSONL, CSV and Parquet of
    the same events, beside the plain orjson + pydantic loop over the JSONL (runs alternated, so
    all see the same moments of a shared machine). Prints medians and ratios; returns the medians."""
    import statistics
    import time

    from validate import jsonl_baseline  # the benchmark's own baseline (benchmarks/ is on sys.path)

    from adrop_kit import validate_events

    print(f"\nrealistic data (benchmarks/realistic.py: rare custom events with their own keys, integral and "
          f"fractional prices in one column, nulls, non-ASCII, escapes, 3% broken rows), {rows:,} rows, "
          f"file → full report, median of {repeats}")
    t = time.perf_counter()
    paths = {p.suffix[1:]: p for p in write_formats(tmp, "realistic", rows, seed=seed)}
    sizes = ", ".join(f"{name} {p.stat().st_size / 1e6:.0f} MB" for name, p in paths.items())
    print(f"  written in {time.perf_counter() - t:.1f} s: {sizes}")
    baseline = "orjson + pydantic per line"
    contenders = [(name, path, validate_events) for name, path in paths.items()]
    contenders.append((baseline, paths["jsonl"], jsonl_baseline))
    # the parse floors: polars' own readers with no rule checked (a floor for any reader built on them)
    contenders.append(("read_csv alone", paths["csv"], _read_csv_alone))
    contenders.append(("csv -> parquet's frame, least", paths["csv"], _csv_least(paths["parquet"])))
    contenders.append(("read_ndjson alone", paths["jsonl"], _ndjson_floor(paths["jsonl"])))
    contenders.append(("read_parquet alone", paths["parquet"], _read_parquet_alone))
    for warm in write_formats(tmp, "warm", 2000, seed=seed):  # imports and first calls, untimed
        validate_events(warm)
    jsonl_baseline(tmp / "warm.jsonl")
    times: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    invalid: dict[str, int | None] = {}
    for _ in range(repeats):
        for name, path, fn in contenders:
            t, c = time.perf_counter(), time.process_time()
            r = fn(path)
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
            invalid[name] = r if isinstance(r, int) or r is None else r.invalid
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, _, _ in contenders:
        print(f"  {name:<30} {med[name]:>7.2f} s {rows / med[name]:>12,.0f} rows/s   "
              f"invalid {'-' if invalid[name] is None else format(invalid[name], ',')}   "
              f"runs {', '.join(f'{t:.2f}' for t in times[name])}   CPU s {statistics.median(cpu[name]):.2f}")
    print("  ratios: median over the repeats of each repeat's own ratio (the runs of one repeat are adjacent, so "
          "a shared machine's load moves them together); CPU: the same with process CPU time (every thread)")
    for label, a, b, target in (("jsonl / baseline", "jsonl", baseline, 1.0),
                                ("csv / parquet   ", "csv", "parquet", 1.5),
                                ("jsonl / parquet ", "jsonl", "parquet", None),
                                ("read_ndjson alone / baseline", "read_ndjson alone", baseline, None),
                                ("read_csv alone / parquet", "read_csv alone", "parquet", None)):
        ratio = statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))
        cpu_ratio = statistics.median(x / y for x, y in zip(cpu[a], cpu[b], strict=True))
        verdict = "" if target is None else f" (target <= {target}x: {'met' if ratio <= target else 'NOT met'})"
        print(f"  {label} {ratio:5.2f}x{verdict}   CPU {cpu_ratio:5.2f}x")
    # the floor of a CSV reader built on polars: its parse, plus every check the Parquet path makes after its read
    floor = statistics.median(c + p - r for c, p, r in zip(times["read_csv alone"], times["parquet"],
                                                           times["read_parquet alone"], strict=True))
    floor_ratio = statistics.median((c + p - r) / p for c, p, r in zip(
        times["read_csv alone"], times["parquet"], times["read_parquet alone"], strict=True))
    print(f"  csv floor (read_csv alone + parquet - read_parquet alone) {floor:.2f} s: {floor_ratio:.2f}x parquet")
    # the least any reader built on polars does to turn the CSV into the frame Parquet's read gives (its numbers
    # typed, its items parsed), then the Parquet path's own work after its read
    least = [c + p - r for c, p, r in zip(times["csv -> parquet's frame, least"], times["parquet"],
                                          times["read_parquet alone"], strict=True)]
    least_ratio = statistics.median((c + p - r) / p for c, p, r in zip(
        times["csv -> parquet's frame, least"], times["parquet"], times["read_parquet alone"], strict=True))
    print(f"  csv floor, Parquet's frame (csv -> parquet's frame, least + parquet - read_parquet alone) "
          f"{statistics.median(least):.2f} s: {least_ratio:.2f}x parquet")
    for path in [*paths.values(), *tmp.glob("warm.*")]:
        path.unlink(missing_ok=True)
    return med


def _read_csv_alone(path: Path) -> None:
    """polars' `read_csv` of the file, every cell text (no inference, as our reader asks): the parse alone."""
    import polars as pl

    pl.read_csv(path, infer_schema=False)


def _csv_least(parquet: Path):  # noqa: ANN202 - a contender
    """The least work that turns the CSV into the frame polars reads from the same events' Parquet: polars'
    `read_csv` (every cell text), the catalog's number, integer and boolean columns cast from their text (no
    exactness, a cell that does not parse is lost), `items` parsed by polars' `json_decode` into the Parquet
    file's own item type (unknown item keys dropped): no rule is checked, nothing is kept aside."""
    import polars as pl

    from adrop_kit.io.frames import key_types
    from adrop_kit.spec.catalog import ITEMS, STANDARD

    item_type = pl.read_parquet_schema(parquet).get(ITEMS)
    types, casts = key_types(STANDARD), {"number": pl.Float64, "integer": pl.Int64}

    def least(path: Path) -> None:
        df = pl.read_csv(path, infer_schema=False, null_values=[""])
        typed = [pl.col(c).str.strip_chars().cast(casts[t], strict=False) if t in casts
                 else pl.col(c).str.to_lowercase() == "true"
                 for c in df.columns if (t := types.get(c)) in (*casts, "boolean")]
        if item_type is not None and ITEMS in df.columns:
            typed.append(pl.col(ITEMS).str.json_decode(item_type))
        df.with_columns(typed)

    return least


def _read_parquet_alone(path: Path) -> None:
    """polars' `read_parquet` of the file: the read the Parquet path makes before any check."""
    import polars as pl

    pl.read_parquet(path)


def _ndjson_floor(path: Path):  # noqa: ANN202 - a contender
    """polars' `read_ndjson` with the catalog's types over the lines it can read (it stops on the first
    line that is not JSON or holds a value of another type, so the lines are chosen before the clock starts,
    by adrop_kit's line grammar): the parse alone, no rule checked."""
    import polars as pl

    from adrop_kit.io.jsonl_plan import plan
    from adrop_kit.io.lines import Lines
    from adrop_kit.spec.catalog import STANDARD

    lines = Lines.of(path.read_bytes())
    p = plan([lines.line(i) for i in range(min(2000, len(lines)))], STANDARD)
    text = pl.Series([lines.line(i).decode("utf-8", "replace") for i in range(len(lines))])
    body = ("\n".join(text.filter(text.str.contains(p.grammar())).to_list()) + "\n").encode()
    schema = p.schema()

    def floor(_: Path) -> None:
        pl.read_ndjson(body, schema=schema)

    return floor
