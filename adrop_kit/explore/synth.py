"""Synthetic Adrop event datasets: seeded, realistic, with planted mistakes whose truth is known.

`sample_frame(n)` simulates users moving through sessions (entry, browsing, the commerce
funnel view_item → add_to_cart → begin_checkout → purchase with drop-off, lead forms,
sign-ups, pushes) on web, android and ios, in KRW and some USD, and returns a typed polars
DataFrame with one column per catalog parameter. A fraction of rows (`error_rate`) breaks
exactly one error rule and a smaller fraction (`warning_rate`) trips exactly one warning;
the column `_truth` names the planted rule (null on clean rows). Clean rows are valid with
no warnings under `validate_event`, so the truth is exact and benchmarks can check answers.

Everything is vectorised with numpy (about a second per million rows); the only Python
loops run over the catalog or over the few duplicated `tx_id`s, never over the bulk. The shop,
its vocabulary and the column builders live in the private module `_world`; this one simulates
the traffic and plants the mistakes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from adrop_kit.explore._world import DTYPES, ITEM_P, OPTIONAL_P, PERSONAL, Ctx, Num, Str, clean_values, draw_products
from adrop_kit.io.frames import to_payloads
from adrop_kit.spec.catalog import ITEMS, PLATFORMS, STANDARD, Catalog, resolve
from adrop_kit.spec.rules import CURRENCY_PARAM, NON_NEGATIVE, PURCHASE_EVENT, TX_PARAM, VALUE_TRIPLE

TRUTH = "_truth"
TS = "ts"
EXTRA = (TS, TRUTH)
ERROR_RULES = ("E002", "E003", "E004", "E005", "E007", "E008")
WARNING_RULES = ("W103", "W104", "W105", "W106", "W107")
_RULES = (*ERROR_RULES, *WARNING_RULES)  # truth code k (1-based) is _RULES[k - 1]

_START = datetime(2026, 11, 1)
_DAY_US = 86_400 * 1_000_000


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segment lengths `counts`: each element's segment id and its position in the segment."""
    seg = np.repeat(np.arange(counts.size), counts)
    return seg, np.arange(seg.size) - np.repeat(np.cumsum(counts) - counts, counts)


def _simulate(rng: np.random.Generator, n: int, cat: Catalog) -> dict[str, Any]:
    """Sessions → events; the first `n` events by time, as per-row arrays."""
    code = {name: i for i, name in enumerate(cat.names)}
    customs = [e.name for e in cat if e.custom]
    n_sessions = max(16, int(n / 4.8) + 16)  # ~5.4 events per session, and a margin
    while True:
        s = n_sessions
        n_users = max(1, s // 3)
        user = rng.integers(0, n_users, s)
        platform_u = rng.choice(3, n_users, p=(0.45, 0.35, 0.20))
        usd_u = rng.random(n_users) < 0.08
        start = rng.integers(0, 30 * _DAY_US, s)
        app = platform_u[user] != 0
        by_user = np.lexsort((start, user))
        first = np.ones(s, bool)
        first[by_user[1:]] = user[by_user[1:]] != user[by_user[:-1]]
        n_view = rng.poisson(1.6, s)
        cart = (n_view > 0) & (rng.random(s) < 0.4)
        n_add = np.where(cart, np.minimum(n_view, 1 + rng.poisson(0.35, s)), 0)
        checkout = cart & (rng.random(s) < 0.5)
        lead = rng.random(s) < 0.04
        parts = [("push_clicks", 0, app & (rng.random(s) < 0.12)), ("app_open", 1, app),
                 ("page_view", 1, ~app), ("sign_up", 2, first & (rng.random(s) < 0.3)),
                 ("page_view", 3, rng.poisson(0.8, s)), ("click", 3, rng.poisson(0.7, s)),
                 ("view_content", 3, rng.poisson(0.3, s)), ("view_item", 3, n_view),
                 ("add_to_wishlist", 3, rng.random(s) < 0.06),
                 *[(c, 3, rng.random(s) < 0.03) for c in customs],
                 ("add_to_cart", 4, n_add), ("begin_lead_form", 4, lead),
                 ("generate_lead", 5, lead & (rng.random(s) < 0.5)), ("begin_checkout", 5, checkout),
                 ("purchase", 6, checkout & (rng.random(s) < 0.6))]
        if sum(int(np.sum(c)) for _, _, c in parts) >= n:
            break
        n_sessions = int(n_sessions * 1.3)
    blocks, starts, total = [], {}, 0
    for i, (name, stage, counts) in enumerate(parts):
        sess, k = _segments(np.asarray(counts, np.int64))
        starts.setdefault(name, total)
        total += sess.size
        blocks.append((np.full(sess.size, code[name]), sess, k, np.full(sess.size, stage), np.full(sess.size, i)))
    ev, sess, k, stage, part = (np.concatenate(cols) for cols in zip(*blocks, strict=True))
    product = draw_products(rng, total)
    qty = 1 + (rng.random(total) < 0.2) + (rng.random(total) < 0.05)
    view_off, add_off = np.cumsum(n_view) - n_view, np.cumsum(n_add) - n_add
    adds = np.arange(starts["add_to_cart"], starts["add_to_cart"] + int(n_add.sum()))
    product[adds] = product[starts["view_item"] + view_off[sess[adds]] + k[adds]]  # carts hold viewed items

    order = np.argsort((sess << 24) + (stage << 20) + rng.integers(0, 1 << 20, total))  # session, stage, random
    gaps = np.cumsum(1_000_000 + rng.exponential(40e6, total).astype(np.int64))
    head = np.maximum.accumulate(np.where(np.r_[True, sess[order][1:] != sess[order][:-1]], np.arange(total), 0))
    ts = start[sess[order]] + gaps - gaps[head] + 1_000_000  # a second after the session starts, then onwards
    by_time = np.argsort(ts)[:n]
    rows = order[by_time]
    s_of = sess[rows]
    return {"ev": ev[rows], "session": s_of, "user": user[s_of], "platform": platform_u[user[s_of]],
            "usd": usd_u[user[s_of]], "product": product[rows], "qty": qty[rows], "ts": ts[by_time],
            "entry": (part[rows] == 2), "cart_items": n_add[s_of], "cart_start": starts["add_to_cart"] + add_off[s_of],
            "all_product": product, "all_qty": qty, "n_users": n_users, "code": lambda name: code.get(name, -1)}


def _present(rng: np.random.Generator, ev: np.ndarray, cat: Catalog, name: str, probs: dict[str, float]) -> np.ndarray:
    """Rows whose event lists `name`: always when required, else with the parameter's probability."""
    listed = np.array([name in e.param_names for e in cat], dtype=bool)[ev]
    optional = np.array([any(p.name == name and not p.required for p in e.params) for e in cat], dtype=bool)[ev]
    rows = np.flatnonzero(optional)
    listed[rows] = rng.random(rows.size) < probs.get(name, 0.9)
    return listed


def _plant_truth(rng: np.random.Generator, err_ok: np.ndarray, warn_ok: np.ndarray, error_rate: float,
                 warning_rate: float) -> np.ndarray:
    """Truth codes (0 clean, k means _RULES[k - 1]): error rows first, then warning rows among the rest.

    Each chosen row gets a rule drawn uniformly among those its event can break (`*_ok`, rows × rules).
    """
    n = err_ok.shape[0]
    pick = lambda ok: np.argmax(rng.random(ok.shape) * ok, axis=1)  # noqa: E731
    truth = np.zeros(n, np.int64)
    bad = rng.permutation(n)[: round(error_rate * n)]
    truth[bad] = 1 + pick(err_ok[bad])
    rest = np.flatnonzero(truth == 0)
    warn = rest[rng.permutation(rest.size)[: round(warning_rate * n)]]
    truth[warn] = 1 + len(ERROR_RULES) + pick(warn_ok[warn])
    return truth


def _reuse_tx_ids(rng: np.random.Generator, truth: np.ndarray, tx: Str, clean_purchases: np.ndarray) -> None:
    """Each W107 row takes the tx_id of its own earlier clean purchase; with none before it, it becomes W106."""
    sources = np.flatnonzero(clean_purchases)
    used = np.zeros(sources.size, bool)
    for row in np.flatnonzero(truth == _RULES.index("W107") + 1).tolist():
        free = np.flatnonzero(~used[: np.searchsorted(sources, row)])
        if free.size == 0:
            truth[row] = _RULES.index("W106") + 1
            continue
        j = free[rng.integers(free.size)]
        used[j] = True
        tx.codes[row] = tx.codes[sources[j]]


def _envelope(rng: np.random.Generator, cat: Catalog, sim: dict[str, Any], rows_of: dict[str, np.ndarray]
              ) -> list[pl.Series]:
    """uid, eventName and platform, with E002/E003/E004/W106 planted."""
    ev, e002, e004, w106 = sim["ev"], rows_of["E002"], rows_of["E004"], rows_of["W106"]
    uid = Str([f"u{i:010x}" for i in rng.choice(1 << 40, sim["n_users"], replace=False).tolist()], sim["user"])
    uid.codes[e002] = np.where(rng.random(e002.size) < 0.75, uid.code(""), uid.code("   "))
    personal = np.array([uid.code(p) for p in PERSONAL])
    uid.codes[w106] = personal[rng.integers(0, personal.size, w106.size)]
    names = Str(list(cat.names), ev)
    names.null(rows_of["E003"])
    platform = Str(list(PLATFORMS), sim["platform"])
    platform.null(np.flatnonzero((ev == sim["code"]("app_open")) & (rng.random(ev.size) < 0.03)))  # optional
    platform.codes[e004] = np.where(rng.random(e004.size) < 0.5, platform.code("Web"), platform.code("windows"))
    return [uid.series("uid"), names.series("eventName"), platform.series("platform")]


def _break_params(rng: np.random.Generator, cat: Catalog, sim: dict[str, Any], cols: dict[str, Str | Num],
                  present: dict[str, np.ndarray], rows_of: dict[str, np.ndarray]) -> None:
    """Blank the absent parameters, then plant E005 and W103/W104/W105 in the parameter columns."""
    ev, e005 = sim["ev"], rows_of["E005"]
    required = [[p.name for p in e.required if p.type != "items"] for e in cat]
    which = (rng.random(e005.size) * np.array([max(1, len(r)) for r in required])[ev[e005]]).astype(np.int64)
    for e, names in enumerate(required):
        for j, name in enumerate(names):
            rows = e005[(ev[e005] == e) & (which == j)]
            cols[name].null(rows)
            if isinstance(cols[name], Str) and name != TX_PARAM:  # "" as often as null; a tx_id only null (W107)
                cols[name].codes[rows[rng.random(rows.size) < 0.5]] = cols[name].code("")
    for name, col in cols.items():
        col.null(~present[name])
    for name in NON_NEGATIVE:  # negating price and value together keeps value == price * quantity
        if isinstance(cols.get(name), Num):
            cols[name].values[rows_of["W103"]] *= -1
    if isinstance(cur := cols.get(CURRENCY_PARAM), Str):
        w104 = rows_of["W104"]
        cur.codes[w104] = np.where(sim["usd"][w104], cur.code("usd"), cur.code("krw"))
    if isinstance(cols.get("value"), Num) and isinstance(cols.get("price"), Num):
        cols["value"].values[rows_of["W105"]] += cols["price"].values[rows_of["W105"]]


def _items(rng: np.random.Generator, cat: Catalog, sim: dict[str, Any], n_items: np.ndarray, items_null: np.ndarray,
           from_cart: np.ndarray, rows_of: dict[str, np.ndarray]) -> pl.Series:
    """The items column: the session's cart on checkout/purchase, else random products; E008/W103 planted."""
    item_row, pos = _segments(n_items)
    cart = from_cart[item_row]
    add = np.where(cart, sim["cart_start"][item_row] + pos, 0)
    ctx = Ctx(rng, np.where(cart, sim["all_product"][add], draw_products(rng, item_row.size)),
               sim["usd"][item_row], np.where(cart, sim["all_qty"][add], 1 + (rng.random(item_row.size) < 0.2)))
    offsets = np.r_[0, np.cumsum(n_items)]
    e008, w103 = rows_of["E008"], rows_of["W103"]
    broken = offsets[e008] + (rng.random(e008.size) * n_items[e008]).astype(np.int64)
    fields = []
    for param in cat.item_params:
        name, ptype = param.name, param.type
        col = clean_values(name, ptype, ctx)
        if param.required and isinstance(col, Str):
            col.codes[broken] = np.where(rng.random(broken.size) < 0.5, col.code(""), -1)
        else:
            col.null(rng.random(item_row.size) >= ITEM_P.get(name, 0.9))
        if name == "price" and isinstance(col, Num):
            col.values[offsets[w103][n_items[w103] > 0]] *= -1
        fields.append(col.series(name))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pl.DataFrame(fields).to_struct().to_arrow(),
                                          mask=pa.array(items_null))
    dtype = pl.List(pl.Struct({k: DTYPES[t] for k, t in cat.item_types.items()}))
    return pl.Series(ITEMS, pl.from_arrow(lists)).cast(dtype)


def sample_frame(n: int, *, seed: int = 0, error_rate: float = 0.03, warning_rate: float = 0.01,
                 catalog: Catalog | str | Path | None = None) -> pl.DataFrame:
    """`n` events as a typed frame, with `ts` and the planted rule in `_truth` (see the module doc)."""
    if n < 0 or not 0 <= error_rate <= 1 or not 0 <= warning_rate <= 1 or error_rate + warning_rate > 1:
        raise ValueError("need n >= 0 and 0 <= error_rate + warning_rate <= 1")
    cat = resolve(catalog)
    rng = np.random.default_rng(seed)
    sim = _simulate(rng, n, cat)
    ev, code = sim["ev"], sim["code"]
    basket = np.array([{"price", "quantity"} <= e.param_names for e in cat], dtype=bool)[ev]
    ctx = Ctx(rng, sim["product"], sim["usd"], sim["qty"], sim["session"], sim["entry"], basket)
    cols: dict[str, Str | Num] = {}
    present: dict[str, np.ndarray] = {}
    for name, ptype in cat.param_types.items():
        if ptype != "items":
            present[name] = _present(rng, ev, cat, name, OPTIONAL_P)
            cols[name] = clean_values(name, ptype, ctx, present[name])
    has_items = _present(rng, ev, cat, ITEMS, OPTIONAL_P)
    from_cart = np.isin(ev, [code("begin_checkout"), code("purchase")])
    n_items = np.where(has_items, np.where(from_cart, sim["cart_items"], 1 + rng.poisson(0.3, ev.size)), 0)

    ones, zeros = np.ones(ev.size, bool), np.zeros(ev.size, bool)
    has = lambda name: present.get(name, zeros)  # noqa: E731
    scalar_required = np.array([any(p.type != "items" for p in e.required) for e in cat], dtype=bool)[ev]
    items_required = np.array([any(p.type == "items" for p in e.required) for e in cat], dtype=bool)[ev]
    purchase = (ev == code(PURCHASE_EVENT)) & has(TX_PARAM)
    err_ok = np.column_stack([ones, ones, ones, scalar_required, items_required, n_items > 0])
    warn_ok = np.column_stack([has("price") | has("value") | (n_items > 0), has(CURRENCY_PARAM),
                               np.logical_and.reduce([has(k) for k in VALUE_TRIPLE]), ones, purchase])
    truth = _plant_truth(rng, err_ok, warn_ok, error_rate, warning_rate)
    if isinstance(tx := cols.get(TX_PARAM), Str):
        _reuse_tx_ids(rng, truth, tx, (truth == 0) & purchase)
    rows_of = {rule: np.flatnonzero(truth == i + 1) for i, rule in enumerate(_RULES)}

    series = _envelope(rng, cat, sim, rows_of)
    _break_params(rng, cat, sim, cols, present, rows_of)
    e007 = rows_of["E007"]
    n_items[e007] = 0
    items_null = ~has_items
    items_null[e007] = rng.random(e007.size) < 0.5  # null or an empty list
    items = _items(rng, cat, sim, n_items, items_null, from_cart, rows_of)
    series += [items if ptype == "items" else cols[name].series(name) for name, ptype in cat.param_types.items()]
    ts = pl.Series(TS, sim["ts"]).cast(pl.Datetime("us")) + (_START - datetime(1970, 1, 1))
    return pl.DataFrame([*series, ts, Str(list(_RULES), truth - 1).series(TRUTH)])


def frame_to_events(frame: pl.DataFrame, *, keep_extra: bool = False) -> list[dict[str, Any]]:
    """Rows as payload dicts: nulls dropped (top level and inside items); `ts`/`_truth` only if asked."""
    return [p for _, p in to_payloads(frame, STANDARD, extra_columns=EXTRA, keep=EXTRA if keep_extra else ())]


def sample_events(n: int, *, keep_extra: bool = False, **options: Any) -> list[dict[str, Any]]:
    """The rows of `sample_frame(n, **options)` as payload dicts (see `frame_to_events`)."""
    return frame_to_events(sample_frame(n, **options), keep_extra=keep_extra)


def write_sample(path: str | Path, n: int, *, seed: int = 0, error_rate: float = 0.03, fmt: str | None = None,
                 extra: Iterable[str] = (TS,), **options: Any) -> Path:
    """Write `sample_frame(n)` as CSV, JSONL, JSON or Parquet (by `fmt` or the suffix); return the path.

    `extra` picks the non-contract columns to keep (`ts`, `_truth`); by default only `ts`.
    CSV cells hold items as JSON array text; an empty cell is an absent value.
    """
    from adrop_kit.io.writers import event_format, write_events

    path = Path(path)
    if fmt is None and path.suffix.lower() in (".gz", ".zst", ".zstd"):  # a compressed text file
        fmt_suffix, compression = _split_suffix("".join(path.suffixes[-2:]))
        frame = sample_frame(n, seed=seed, error_rate=error_rate, **options)
        return _write_compressed(frame.drop([c for c in EXTRA if c not in set(extra)]), path, fmt_suffix, compression)
    fmt = event_format(path, fmt)  # before the work: a bad suffix fails at once
    frame = sample_frame(n, seed=seed, error_rate=error_rate, **options)
    return write_events(frame.drop([c for c in EXTRA if c not in set(extra)]), path, fmt=fmt, keep=EXTRA)


def write_sample_parts(directory: str | Path, n: int, parts: int, *, suffix: str = ".jsonl", seed: int = 0,
                       error_rate: float = 0.03, extra: Iterable[str] = (TS,), **options: Any) -> list[Path]:
    """`sample_frame(n)` cut into `parts` part files `part-00000<suffix>`, … in `directory`, as a
    Spark job writes an export (with a `_SUCCESS` marker). `suffix` names the format and an optional
    compression: `.jsonl`, `.csv.gz`, `.jsonl.zst`, `.parquet`. The parts together hold exactly the
    rows of `write_sample(path, n, seed=seed)`, in order; a tx_id reused across parts stays reused."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    directory = Path(directory)
    fmt_suffix, compression = _split_suffix(suffix)
    frame = sample_frame(n, seed=seed, error_rate=error_rate, **options)
    frame = frame.drop([c for c in EXTRA if c not in set(extra)])
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for k in range(parts):
        lo, hi = n * k // parts, n * (k + 1) // parts
        written.append(_write_compressed(frame.slice(lo, hi - lo), directory / f"part-{k:05d}{suffix}",
                                         fmt_suffix, compression))
    (directory / "_SUCCESS").write_bytes(b"")
    return written


def _split_suffix(suffix: str) -> tuple[str, str | None]:
    from adrop_kit.io.parts import format_of
    from adrop_kit.io.writers import event_format

    fmt, compression = format_of(Path("x" + suffix))
    if fmt is None:
        raise ValueError(f"cannot write {suffix!r} parts: use .csv, .jsonl, .ndjson, .json or .parquet, "
                         "with .gz or .zst after a text format")
    event_format(Path("x" + fmt))
    return fmt, compression


def _write_compressed(frame: pl.DataFrame, path: Path, fmt_suffix: str, compression: str | None) -> Path:
    """Write `frame` to `path`, through gzip or zstd when asked (pyarrow's codecs)."""
    from adrop_kit.io.writers import write_events

    if compression is None:
        return write_events(frame, path, keep=EXTRA)
    import pyarrow as pa

    plain = path.with_name(f".{path.name}.tmp{fmt_suffix}")
    try:
        write_events(frame, plain, keep=EXTRA)
        with plain.open("rb") as src, pa.output_stream(str(path), compression=compression) as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    finally:
        plain.unlink(missing_ok=True)
    return path


__all__ = ["ERROR_RULES", "TRUTH", "TS", "WARNING_RULES", "frame_to_events", "sample_events", "sample_frame",
           "write_sample", "write_sample_parts"]
