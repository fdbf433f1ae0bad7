"""Getting events in and out without losing or altering a value: JSON text (`jsontext`), the
canonical polars frame every input becomes (`frames`, with its column builders in `columns`,
exact values in `values`, and its rows back in the user's own columns in `views`), the file
readers (`readers` dispatching to `read_csv` with the record grammar in `csv_records` and its
regular spans in `csv_spans`, `read_json` with its native JSONL lane in `jsonl_fast` merged by
`lanes`, `read_parquet`; files and streams opened once by `source`), the writers (`writers`) and
files written row batch by row batch (`sink`).

Layer: above `spec`; may import `adrop_kit.spec`, `adrop_kit.support` and `adrop_kit.errors` only. Nothing here
judges an event: rows that cannot be read are carried as E001 rows for `validate` to report.
"""
