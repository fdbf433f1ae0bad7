"""Delivering events: an event's fate in one vocabulary (`outcome`: `Outcome`, `EventOutcome`), what a
transport is and how a reply is classified (`transport`), the HTTP transports (`http`) with their
per-request deadline and reply cap (`deadline`), the in-process ASGI transport (`asgi`), the retry
policy (`retry`), the rate limit (`ratelimit`), the SQLite journal (`journal`), the `Sender`
(`sender`), the one send loop every dataset send runs (`stream`: each batch planned by `plan`, sent by
`workers`, counted by `tally`) and its `SendReport` (`report`).

Layer: beside `server`, `testing`'s dependencies, `explore` and `export`; may import
`adrop_kit.spec`, `adrop_kit.io`, `adrop_kit.validate`, `adrop_kit.support` and `adrop_kit.errors` (never the
server).
"""
