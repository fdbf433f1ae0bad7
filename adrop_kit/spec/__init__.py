"""The contract itself, as data: the event catalog (standard events, tracking plans), the
rule ids with their messages and heuristics (SPEC.md in code), which hosts count as this machine
(`hosts`: where plain http:// is allowed, for the sender and the local server alike), the
version the sender names (`version`), and the contract for other tools: JSON Schema and OpenAPI
generated from the catalog (`jsonschema`).

Layer: the bottom. It imports nothing of adrop_kit but `adrop_kit.errors`; everything else
derives from it (validators, pandera schemas, JSON Schema, strategies, widget forms, the server).
"""

from __future__ import annotations

from adrop_kit.spec.catalog import ITEMS, STANDARD, Catalog, EventSpec, ParamSpec, resolve
from adrop_kit.spec.rules import Rule, Violation

__all__ = ["ITEMS", "STANDARD", "Catalog", "EventSpec", "ParamSpec", "Rule", "Violation", "resolve"]
