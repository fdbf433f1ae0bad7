"""Foreign exports as Adrop events: GA4 / Firebase BigQuery exports and Segment / RudderStack calls.

`mapping` (a TOML mapping a user edits, checked against the catalog; the defaults in `defaults`),
`sources` (an export's rows batch by batch: newline-delimited JSON, JSON arrays, Parquet),
`values` (dotted paths, GA4's key/value lists, placeholders, what was lost), `engine` (`map_rows`:
the one per-batch mapping the Python API, the CLI and Spark call) and `detect` (what an input
that is not yet Adrop events looks like). The public face is `adrop_kit.importers`
(`validate/importers.py`), which also counts what validation finds.

Layer: io; may import `adrop_kit.spec`, `adrop_kit.support` and `adrop_kit.errors` only.
"""
