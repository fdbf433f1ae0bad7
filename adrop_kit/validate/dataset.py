"""`validate_events`: a whole dataset against the contract.

Whatever the input (a path, a directory of part files, a glob, a list of files, `-` for standard
input, a pandas or polars frame, a list of dicts), it goes through the one batch pipeline
(`validate.pipeline`): batches, each checked by `check_batch`, merged by one accumulator (W107,
counts). A frame, a list of dicts or a file that fits in memory is the one-batch case: read whole
into the canonical frame (`adrop_kit.io`), and the report keeps its rows (for `valid_rows`);
several files, standard input, a file over `STREAM_ABOVE` bytes, or any of `batch_bytes=`,
`batch_rows=`, `violations_out=` (or `stream=True`) are read batch by batch (`validate.stream`):
the same violations and counts, in memory that does not grow with the input.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from adrop_kit.io.frames import Frame
from adrop_kit.io.importers.fixes import Fixes, fix_notes, fixed_frames
from adrop_kit.io.importers.mapping import Mapping, load_mapping
from adrop_kit.io.parts import Inputs, is_paths, resolve_inputs, with_encoding
from adrop_kit.io.readers import to_frame
from adrop_kit.io.stream import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, whole_frame
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.validate.batch import check_batch
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.pipeline import validate_frames
from adrop_kit.validate.report import DatasetReport
from adrop_kit.validate.rows import RowsOut
from adrop_kit.validate.stream import validate_stream

STREAM_ABOVE = 512 << 20
"""A single file larger than this (bytes on disk) is streamed unless `stream=False`; so is a compressed
one, whatever its size (what it decompresses to is not known before it is read)."""


def validate_events(data: Any, *, catalog: Catalog | str | None = None, strict: bool = False,
                    extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                    engine: Literal["polars", "pandera"] = "polars", stream: bool | None = None,
                    batch_bytes: int | None = None, batch_rows: int | None = None,
                    violations_out: Any = None, progress: bool | None = None,
                    delimiter: str | None = None, valid_out: Any = None, invalid_out: Any = None,
                    encoding: str | None = None, mapping: Any = None,
                    skip_unreadable: bool = False, follow_links: bool = False) -> DatasetReport:
    """Validate a dataset: a path (.csv/.jsonl/.ndjson/.json/.parquet, `.gz`/`.zst` for text), a
    directory of part files, a glob, a list of paths, `-` (JSONL on standard input), a pandas or
    polars DataFrame, or a list of event dicts. Never raises for bad rows: every row is reported
    (rows = valid + invalid); raises `DataReadError` only when the input cannot be read at all.

    Streaming (see the module docstring) is chosen by `stream=None`; `stream=True` forces it,
    `stream=False` reads one file whole. `batch_bytes` (text) and `batch_rows` (Parquet) size the
    batches; `violations_out` (.parquet/.jsonl/.csv) writes the violations there as they are found;
    `progress` shows a bar (None: on a terminal or in a notebook). `delimiter`: a CSV file's field
    separator (`,` `;` tab `|`); None sniffs it from the header and the first records.
    `extra_columns` replaces the default metadata columns (`ts`); naming `uid`, `eventName`,
    `platform` or a catalog parameter raises `MetaColumnError`. `valid_out` / `invalid_out`
    (.parquet/.jsonl/.csv) write the valid and the invalid rows in your columns and values
    (`report.valid_rows` / `invalid_rows`), batch by batch when the input streams. `encoding`: a
    CSV file's text encoding (`"cp949"`, `"latin-1"`); None reads UTF-8, and guesses CP949 for a file
    that is not UTF-8 (the report's notes say so). `mapping`: a mapping file (or `Mapping`) whose
    renames and value fixes (`[rename]`, `[fix.COLUMN]`, `[case]`) apply to every row before it is
    checked; the report's notes say how many rows each rule changed.
    `skip_unreadable`: an entry of a directory that cannot be read (no permission, a broken link, a
    name that is not UTF-8) is skipped and listed in `report.unread` instead of raising
    `DataReadError`; `follow_links`: a link out of an input directory is read (`report.linked`).
    Both are `io.parts.resolve_inputs`'s, whose `Inputs` may also be passed as `data`.
    """
    start = time.perf_counter()
    cat = resolve(catalog)
    extra_columns = cat.metadata(extra_columns)  # MetaColumnError for `price`, `uid`…: before anything is read
    fixes, where = mapping_fixes(mapping, cat)
    changed: Counter[str] = Counter()
    if is_paths(data) and (skip_unreadable or follow_links):
        data = resolve_inputs(data, skip_unreadable=skip_unreadable, follow_links=follow_links)
    inputs = plan_inputs(data, stream=stream, batch_bytes=batch_bytes, batch_rows=batch_rows,
                         violations_out=violations_out, encoding=encoding)
    if isinstance(inputs, Inputs):
        rows_out = RowsOut(valid_out, invalid_out, multi=len(inputs.parts) > 1)
        try:
            report = validate_stream(inputs, cat, strict=strict, extra_columns=extra_columns, engine=engine,
                                     batch_bytes=batch_bytes or DEFAULT_BATCH_BYTES,
                                     batch_rows=batch_rows or DEFAULT_BATCH_ROWS, violations_out=violations_out,
                                     progress=progress, delimiter=delimiter, rows_out=rows_out,
                                     fix=None if fixes is None else (lambda fs: fixed_frames(fs, fixes, changed)))
        finally:
            rows_out.close()  # also when validate_stream fails before its own `finally`
        report.notes += fix_notes(changed, where)
        return report
    frame: Frame = to_frame(data, cat) if inputs is None else whole_frame(inputs, cat, delimiter=delimiter,
                                                                          ordered=False)  # (the report sorts on use)
    rows_out = RowsOut(valid_out, invalid_out) if valid_out is not None or invalid_out is not None else None
    frames: Any = [(0, frame)] if fixes is None else fixed_frames([(0, frame)], fixes, changed)
    report = validate_frames(frames, cat, keep_rows=True, strict=strict, extra_columns=extra_columns,
                             engine=engine, rows_out=rows_out, start=start)
    report.notes += fix_notes(changed, where)
    return report


def mapping_fixes(mapping: Any, catalog: Catalog) -> tuple[Fixes | None, str]:
    """(the fixes of a mapping file or `Mapping`, or None; how the notes name it)."""
    if mapping is None:
        return None, ""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping, catalog=catalog)
    return (m.fixes or None), (f"mapping {mapping}" if not isinstance(mapping, Mapping) else "mapping")


def plan_inputs(data: Any, *, stream: bool | None = None, batch_bytes: int | None = None,
                batch_rows: int | None = None, violations_out: Any = None, outcomes_out: Any = None,
                encoding: str | None = None) -> Any:
    """How an input is read: `Inputs` (streamed), one `Part` (read whole), or None (not a path:
    a frame or records, read whole by `to_frame`). `outcomes_out` is `Sender.send_all`'s: it streams too."""
    asked = any(v is not None for v in (batch_bytes, batch_rows, violations_out, outcomes_out))
    if not is_paths(data):
        if stream or asked:
            raise TypeError("streaming (stream=True, batch_bytes=, batch_rows=, violations_out=, outcomes_out=) "
                            "reads files: "
                            f"pass a path, a directory, a glob or a list of paths, not a {type(data).__name__}")
        return None
    inputs = with_encoding(resolve_inputs(data), encoding)
    single = len(inputs.parts) == 1 and not inputs.multi
    if stream is False:
        if not single or asked:
            raise ValueError(f"{inputs.label}: stream=False reads one file whole; "
                             + ("this input has several files" if not single else
                                "batch_bytes=, batch_rows=, violations_out= and outcomes_out= stream"))
        return inputs.parts[0]
    part = inputs.parts[0]
    if stream or asked or not single or part.path is None or part.compression or (part.size or 0) > STREAM_ABOVE:
        return inputs
    return part


__all__ = ["DEFAULT_EXTRA_COLUMNS", "STREAM_ABOVE", "check_batch", "plan_inputs", "validate_events"]
