"""Write notebooks 01, 03 and 04 from the cell sources below (outputs cleared, no widget state).

    .venv/bin/python notebooks/build.py            # rewrite them
    .venv/bin/python notebooks/build.py --check    # exit 1 if a committed notebook differs

Edit the cells here rather than in JupyterLab, so the notebooks stay reviewable as code.
`tests/test_notebooks.py` runs every notebook in this folder top to bottom.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
KERNEL = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


VALIDATE = [
    md("""
# Validate a dataset

Check every row of an event dataset against Adrop's event contract before anything is sent:
which rows Adrop would reject with `!invalid` (errors, rule ids `E…`) and which it would accept
but are probably a data bug (warnings, `W…`). Each violation names its rule and the row it is
on (the 0-based position in the file), so nothing is lost or misattributed.

By default this runs on a synthetic sample: 5,000 realistic events with a few percent of
deliberate mistakes. **To check your own data, set `DATA` below** to a `.csv`, `.jsonl`, `.json`
or `.parquet` file. Nothing is sent anywhere: no account or key is needed.
"""),
    code("""
%matplotlib inline
import polars as pl

import adrop_kit
from adrop_kit import analytics as an
from adrop_kit.synth import sample_frame
from adrop_kit.widgets import DatasetValidator

DATA = None  # ← or the path of your own events: "events.csv", "events.jsonl", "events.parquet", …

report = adrop_kit.validate_events(sample_frame(5_000, seed=7) if DATA is None else DATA)
report
"""),
    md("""
## By rule

How many violations each rule has, and on how many distinct rows. `adrop-kit rules` (or the
README) explains every rule id.
"""),
    code("""
report.by_rule()
"""),
    md("""
## Failures by rule

Red bars are errors (Adrop rejects those rows), orange ones warnings (accepted, but worth a look).
"""),
    code("""
an.plot_failures_by_rule(report)
"""),
    md("""
## One rule at a time

`report.violations` is a polars DataFrame with one row per broken rule: filter it like any other.
"""),
    code("""
report.violations.filter(pl.col("rule") == "E005").head(8)
"""),
    md("""
## The interactive validator

The same report as a widget: filter the failures by rule and by event, look at the chart, and
download the failures and the clean rows as CSV (or save both into a folder). Use **Upload file**
to check another file, or type a path.
"""),
    code("""
DatasetValidator(report, name=DATA or "synthetic sample (seed 7)")
"""),
    md("""
## What is safe to send

`report.valid_rows` keeps the rows without errors (warnings allowed), in their original order.
Notebook 04 sends them, to the local server by default.
"""),
    code("""
clean = report.valid_rows
print(f"{clean.height:,} of {report.rows:,} rows are safe to send; {report.invalid:,} need fixing first")
"""),
]

CONTRACT = [
    md("""
# Fuzz and contract-test with hypothesis, against the local server

Adrop's public page documents its event API, but not every rule it enforces. adrop_kit's
[hypothesis](https://hypothesis.readthedocs.io) strategies draw payloads from the catalog —
valid ones, and invalid ones that each break exactly one named rule — so you can

1. test your own code with them (property tests),
2. send them to an endpoint and compare its verdict with adrop_kit's (`run_contract`): every
   disagreement is an undocumented rule (or a bug), shrunk to the smallest payload that shows it.

Everything here runs against the local Adrop-compatible server on 127.0.0.1: no account needed.
"""),
    code("""
import json

from hypothesis import find, given, seed, settings

from adrop_kit import validate_event
from adrop_kit.contract import run_contract
from adrop_kit.sender import Sender
from adrop_kit.server import LocalServer
from adrop_kit.strategies import events, invalid_events
from adrop_kit.widgets import FuzzLab
"""),
    md("""
## Strategies

`events("purchase")` draws valid purchases; `invalid_events()` draws `(payload, rule)` pairs.
`hypothesis.find` returns the *simplest* payload that satisfies a condition — the same shrinking
that makes a failing test's example small:
"""),
    code("""
find(events("purchase"), lambda p: len(p["items"]) >= 2 and "platform" in p)
"""),
    code("""
payload, rule = find(invalid_events("add_to_cart", rules="E006"), lambda case: True)
print(rule, json.dumps(payload))
print(validate_event(payload))
"""),
    md("""
A few varied draws, collected inside a `@given` run:
"""),
    code("""
drawn = []

@seed(2)
@settings(max_examples=12, database=None, deadline=None)
@given(invalid_events())
def collect(case):
    drawn.append(case)

collect()
for payload, rule in drawn[-8:]:
    print(f"{rule}  {json.dumps(payload, ensure_ascii=False)[:110]}")
"""),
    md("""
## A property test, inline

Two properties of the contract, checked on a few hundred drawn payloads. The second one sends
every drawn event over real HTTP to the local server, which must accept exactly what
`validate_event` accepts.
"""),
    code("""
@settings(max_examples=300, deadline=None)
@given(invalid_events())
def test_every_broken_rule_is_reported(case):
    payload, rule = case
    assert rule in validate_event(payload).rules

test_every_broken_rule_is_reported()
print("ok: every broken rule was reported")
"""),
    code("""
with LocalServer() as server, Sender(server.app_key, endpoint=server.endpoint, progress=False) as sender:

    @settings(max_examples=150, deadline=None)
    @given(events())
    def test_the_local_server_accepts_every_valid_event(payload):
        assert sender.send(payload).outcome == "delivered"

    test_the_local_server_accepts_every_valid_event()
    print("ok:", server.stats())
"""),
    md("""
## A contract test that finds a disagreement

Here the "endpoint" is a local server with deliberately different rules: `strict=True` makes it
reject events outside the catalog, which adrop_kit (not strict) only warns about (W101). That is
the kind of undocumented rule a contract test exists to find. `run_contract` probes every
(event, rule) pair, then shrinks each disagreement to the smallest payload that still shows it.
"""),
    code("""
stricter = LocalServer(strict=True).start()   # stands in for an endpoint with an undocumented rule

contract = run_contract(stricter, events=["click", "purchase"], examples=60, seed=1)
contract
"""),
    code("""
for d in contract.disagreements:  # the first payload that disagreed, and what hypothesis shrank it to
    print(d.describe())
    print("  found: ", json.dumps(d.original, ensure_ascii=False))
    print("  shrunk:", json.dumps(d.payload, ensure_ascii=False))
"""),
    md("""
Against Adrop itself: `run_contract("https://api-v2.adrop.io/event", yes=True)` with your key in
`ADROP_APP_KEY` (it sends at most 2 events/s there, and `yes=True` is needed because valid
payloads would be stored as real events). `adrop-kit fuzz` does the same from the command line.

## FuzzLab

Pick events, valid and/or invalid payloads and how many; **Draw** shows them, **Send drawn** sends
them as they are and compares each verdict, **Contract test** runs `run_contract` (with shrinking).
It is connected to the stricter server above, so invalid payloads with custom event names (W101)
show up as disagreements.
"""),
    code("""
lab = FuzzLab(server=stricter, events=("click", "sign_up", "purchase"))
lab.draw()
lab
"""),
]

SEND = [
    md("""
# Compose and send samples

Build one event with a form generated from the catalog (validated as you type), then send a
whole dataset with a progress bar — a **dry run** first, which shows the requests with the app
key masked and sends nothing.

By default everything goes to the **local Adrop-compatible server** this notebook starts on
127.0.0.1, so no account is needed. To use a real endpoint, start JupyterLab with both
`ADROP_ENDPOINT` and `ADROP_APP_KEY` set in its environment; the key is then read from there,
never typed into the notebook, and only ever shown masked (`ab…yz`).
"""),
    code("""
import os

from adrop_kit.sender import Sender
from adrop_kit.server import LocalServer
from adrop_kit.synth import sample_frame
from adrop_kit.widgets import EventComposer, SendPanel

ENDPOINT = os.environ.get("ADROP_ENDPOINT")
if ENDPOINT and os.environ.get("ADROP_APP_KEY"):
    server, endpoint, app_key = None, ENDPOINT, None     # the key comes from ADROP_APP_KEY
    target = {"endpoint": ENDPOINT}
else:
    server = LocalServer().start()                      # stops with the kernel
    endpoint, app_key = server.endpoint, server.app_key
    target = {"server": server}
print("sending to", endpoint)
"""),
    md("""
## A dry run shows the request

The key is masked; nothing leaves the notebook.
"""),
    code("""
with Sender(app_key, endpoint=endpoint, dry_run=True) as sender:
    print(sender.render_request({"uid": "user-1", "eventName": "sign_up", "method": "email"}))
"""),
    md("""
## Compose one event

Choose an event: the form shows one input per parameter (`*` = required; an empty input means the
key is absent). The violations and the JSON payload update as you type. **Fill an example**
fills in valid values. With **dry run** on, the button shows the request; switch it off to send.
"""),
    code("""
EventComposer(**target, event="sign_up")
"""),
    md("""
## Send a dataset

A synthetic sample of 1,000 events (a few deliberately broken: they are skipped, with the reason).
Press **Dry run**, then switch dry run off and **Send**: the progress bar and the counts follow the
delivery, and the tables list the problems and each row's outcome.
"""),
    code("""
data = sample_frame(1_000, seed=3)
SendPanel(data, **target)
"""),
    md("""
The same in code. Against a real endpoint this cell only does a dry run unless you change `DRY_RUN`.
"""),
    code("""
DRY_RUN = server is None
with Sender(app_key, endpoint=endpoint, dry_run=DRY_RUN, concurrency=8, progress=False) as sender:
    sent = sender.send_all(data)
sent
"""),
    code("""
server.stats() if server is not None else "sent to " + endpoint
"""),
]

NOTEBOOKS = {"01_validate.ipynb": VALIDATE, "03_contract.ipynb": CONTRACT, "04_send.ipynb": SEND}


def build(name: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=NOTEBOOKS[name], metadata=dict(KERNEL))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"  # stable ids: rebuilding changes nothing
    return nb


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in NOTEBOOKS:
        path = HERE / name
        text = nbformat.writes(build(name)) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print("wrote", path)
    if stale:
        print("out of date (run notebooks/build.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
