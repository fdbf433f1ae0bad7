# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fuzz and contract-test with hypothesis, against the local server
#
# Adrop's public page documents its event API, but not every rule it enforces. adrop_kit's
# [hypothesis](https://hypothesis.readthedocs.io) strategies draw payloads from the catalog —
# valid ones, and invalid ones that each break exactly one named rule — so you can
#
# 1. test your own code with them (property tests),
# 2. send them to an endpoint and compare its verdict with adrop_kit's (`run_contract`): every
#    disagreement is an undocumented rule (or a bug), shrunk to the smallest payload that shows it.
#
# Everything here runs against the local Adrop-compatible server on 127.0.0.1: no account needed.

# %%
import json

from hypothesis import find, given, seed, settings

from adrop_kit import validate_event
from adrop_kit.send.sender import Sender
from adrop_kit.server import LocalServer
from adrop_kit.testing.contract import run_contract
from adrop_kit.testing.local import local_server, local_transport
from adrop_kit.testing.strategies import events, invalid_events
from adrop_kit.widgets import FuzzLab

# %% [markdown]
# ## Strategies
#
# `events("purchase")` draws valid purchases; `invalid_events()` draws `(payload, rule)` pairs.
# `hypothesis.find` returns the *simplest* payload that satisfies a condition — the same shrinking
# that makes a failing test's example small:

# %%
find(events("purchase"), lambda p: len(p["items"]) >= 2 and "platform" in p)

# %%
payload, rule = find(invalid_events("add_to_cart", rules="E006"), lambda case: True)
print(rule, json.dumps(payload))
print(validate_event(payload))

# %% [markdown]
# A few varied draws, collected inside a `@given` run:

# %%
drawn = []

@seed(2)
@settings(max_examples=12, database=None, deadline=None)
@given(invalid_events())
def collect(case):
    drawn.append(case)

collect()
for payload, rule in drawn[-8:]:
    print(f"{rule}  {json.dumps(payload, ensure_ascii=False)[:110]}")


# %% [markdown]
# ## A property test, inline
#
# Two properties of the contract, checked on a few hundred drawn payloads. The second one sends
# every drawn event to the local server's app (in process), which must accept exactly what
# `validate_event` accepts.

# %%
@settings(max_examples=300, deadline=None)
@given(invalid_events())
def test_every_broken_rule_is_reported(case):
    payload, rule = case
    assert rule in validate_event(payload).rules

test_every_broken_rule_is_reported()
print("ok: every broken rule was reported")

# %%
# The server runs in process: the sender calls its app directly (no socket, no port), the real app all the same.
with local_server() as server, Sender(server.app_key, transport=local_transport(server), progress=False) as sender:

    @settings(max_examples=150, deadline=None)
    @given(events())
    def test_the_local_server_accepts_every_valid_event(payload):
        assert sender.send(payload).outcome == "delivered"

    test_the_local_server_accepts_every_valid_event()
    print("ok:", server.stats())

# %% [markdown]
# ## A contract test that finds a disagreement
#
# Here the "endpoint" is a local server with deliberately different rules: `strict=True` makes it
# reject events outside the catalog, which adrop_kit (not strict) only warns about (W101). That is
# the kind of undocumented rule a contract test exists to find. `run_contract` probes every
# (event, rule) pair, then shrinks each disagreement to the smallest payload that still shows it.

# %%
stricter = LocalServer(strict=True).start()   # stands in for an endpoint with an undocumented rule

contract = run_contract(stricter, events=["click", "purchase"], examples=60, seed=1)
contract

# %%
for d in contract.disagreements:  # the first payload that disagreed, and what hypothesis shrank it to
    print(d.describe())
    print("  found: ", json.dumps(d.original, ensure_ascii=False))
    print("  shrunk:", json.dumps(d.payload, ensure_ascii=False))

# %% [markdown]
# Against Adrop itself: `run_contract("https://api-v2.adrop.io/event", yes=True)` with your key in
# `ADROP_APP_KEY` (it sends at most 2 events/s there, and `yes=True` is needed because valid
# payloads would be stored as real events). `adrop-kit fuzz` does the same from the command line.
#
# ## FuzzLab
#
# Pick events, valid and/or invalid payloads and how many, then:
#
# - **Draw** shows the payloads and the verdict adrop_kit expects for each; it contacts no server.
#   Each Draw uses a fresh random seed, shown above the table: type it into *seed* to draw the same
#   payloads again. The *note* column says when a payload's `eventName` is not its row's event: the
#   rows breaking W101 carry a name outside the catalog (`level_up`, …).
# - **Send drawn** sends those payloads, exactly as shown, and compares each verdict.
# - **Contract test** runs `run_contract` (with shrinking).
#
# The lab is connected to the stricter server above, and this cell already pressed **Draw** and
# **Send drawn**: the payloads breaking W101 (which adrop_kit only warns about) come back *rejected*,
# so they are listed first as disagreements. Tick *strict* and press **Send drawn** again: adrop_kit
# then expects the rejection too, and every verdict agrees.

# %%
lab = FuzzLab(server=stricter, events=("click", "sign_up", "purchase"))
lab.draw()
lab.send()
lab
