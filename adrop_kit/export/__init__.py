"""The contract for other tools: JSON Schema (draft 2020-12, one per event plus a dispatch
schema) and OpenAPI 3.1 for `POST /event`, generated from the catalog (`schemas`).

Layer: beside `send`; may import `adrop_kit.spec` (and what lies below it).

    from adrop_kit.export import dispatch_schema, json_schemas, openapi
"""

from __future__ import annotations

from adrop_kit.export.schemas import DIALECT, RULES, dispatch_schema, event_schema, json_schemas, openapi, write_json

__all__ = ["DIALECT", "RULES", "dispatch_schema", "event_schema", "json_schemas", "openapi", "write_json"]
