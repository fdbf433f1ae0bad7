"""MkDocs hooks: the reference pages generated from the code, so they cannot drift from it.

- `reference/rules.md`: every rule of the catalog with its title, a payload that breaks it (built by
  the same mutations the hypothesis strategies use), the messages `validate_event` gives for it, and
  how to fix it.
- `reference/cli.md`: every `adrop-kit` command with its help, taken from the argparse parser.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from contextlib import redirect_stdout

from mkdocs.structure.files import File


def on_files(files, config):  # noqa: ANN001, ANN201 - the MkDocs hook signature
    for path, text in (("reference/rules.md", rules_page()), ("reference/cli.md", cli_page())):
        files.append(File.generated(config, path, content=text))
    return files


# -- the rules reference -----------------------------------------------------------------
def rules_page() -> str:
    from adrop_kit import STANDARD, Rule, validate_event, validate_events
    from adrop_kit.testing.mutations import rule_example

    out = ["# Rules reference", "",
           "Every rule adrop_kit checks, generated from the catalog in the code (`adrop_kit/spec/rules.py`). "
           "**Errors** (E…) are events Adrop answers with `!invalid`; **warnings** (W…) are accepted by Adrop "
           "but are almost surely a data bug. `adrop-kit rules` prints the same list.", "",
           "| rule | severity | what it checks |", "|---|---|---|"]
    out += [f"| [{r.value}](#{r.value.lower()}) | {r.severity} | {r.title} |" for r in Rule]
    for rule in Rule:
        out += ["", f"## {rule.value}", "", f"**{rule.severity}**: {rule.title}.", ""]
        payload = rule_example(rule, STANDARD)
        if payload is not None:
            report = validate_event(payload)
            messages = [v for v in report.violations if v.rule == rule]
            out += ["A payload that breaks it:", "", "```json", json.dumps(payload, ensure_ascii=False), "```", ""]
        else:
            rows = _dataset_example(rule)
            if rows is None:
                out += ["No payload of the standard catalog breaks it alone: it needs an event a tracking plan "
                        "declares with that many parameters.", ""]
                messages = []
            else:
                out += ["Rows that break it (a dataset rule: it looks across rows):" if len(rows) > 1 else
                        "A payload that breaks it:", "", "```json"]
                out += [json.dumps(r, ensure_ascii=False) for r in rows]
                out += ["```", ""]
                found = validate_events(rows).violations.rows(named=True)
                messages = [_V(**v) for v in found if v["rule"] == rule.value]
        if messages:
            out += ["What you see:", "", "```text"]
            out += [f"{v.rule} {v.field or '(body)'}: {v.message}" for v in messages]
            out += ["```", ""]
        out += [f"**How to fix it.** {rule.fix}"]
    return "\n".join(out) + "\n"


class _V:
    def __init__(self, **row) -> None:  # noqa: ANN003 - a violations row of a DatasetReport
        self.rule, self.field, self.message = row["rule"], row["field"], row["message"]


def _dataset_example(rule) -> list[dict] | None:  # noqa: ANN001
    if rule.value == "W108":  # a custom event (W101 too) with 21 parameters; a plan's event would be W108 alone
        return [{"uid": "user-1042", "eventName": "level_up", **{f"stat_{i}": i for i in range(1, 22)}}]
    if rule.value != "W107":
        return None
    item = {"item_id": "SKU-1", "price": 12900, "quantity": 1}
    return [{"uid": "user-1042", "eventName": "purchase", "tx_id": "T-1001", "items": [item]},
            {"uid": "user-2077", "eventName": "purchase", "tx_id": "T-1001", "items": [item]}]


# -- the CLI reference -------------------------------------------------------------------
def cli_page() -> str:
    from adrop_kit.cli.main import _parser

    parser, commands = _parser()
    out = ["# CLI reference", "", "Generated from the command's own parser: what `adrop-kit COMMAND --help` prints.",
           "", "```text", _help(parser), "```"]
    for name, command in commands.items():
        out += ["", f"## adrop-kit {name}", "", "```text", _help(command), "```"]
        for action in command._actions:  # noqa: SLF001 - argparse keeps its subparsers there
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                for sub_name, sub in action.choices.items():
                    out += ["", f"### adrop-kit {name} {sub_name}", "", "```text", _help(sub), "```"]
    return "\n".join(out) + "\n"


def _help(parser: argparse.ArgumentParser) -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width: the page does not depend on it
    buf = io.StringIO()
    with redirect_stdout(buf):
        parser.print_help()
    return buf.getvalue().rstrip()
