"""Getting events in and out without losing or altering a value: JSON text (`jsontext`), the
canonical polars frame every input becomes (`frames`), the file readers (`readers`: CSV,
JSONL/NDJSON, JSON, Parquet), the writers (`writers`) and which hosts count as this machine
(`hosts`).

Layer: above `spec`; may import `adrop_kit.spec` and `adrop_kit.errors` only. Nothing here
judges an event: rows that cannot be read are carried as E001 rows for `validate` to report.
"""
