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
# # Compose and send samples
#
# Build one event with a form generated from the catalog (validated as you type), then send a
# whole dataset with a progress bar — a **dry run** first, which shows the requests with the app
# key masked and sends nothing.
#
# By default everything goes to the **local Adrop-compatible server** this notebook starts on
# 127.0.0.1, so no account is needed. To use a real endpoint, start JupyterLab with both
# `ADROP_ENDPOINT` and `ADROP_APP_KEY` set in its environment; the key is then read from there,
# never typed into the notebook, and only ever shown masked (`ab…yz`).

# %%
import os
import tempfile
from pathlib import Path

from adrop_kit.explore.synth import sample_frame
from adrop_kit.send.sender import Sender
from adrop_kit.server import LocalServer
from adrop_kit.widgets import EventComposer, SendPanel

ENDPOINT = os.environ.get("ADROP_ENDPOINT")
if ENDPOINT and os.environ.get("ADROP_APP_KEY"):
    server, endpoint, app_key = None, ENDPOINT, None     # the key comes from ADROP_APP_KEY
    target = {"endpoint": ENDPOINT}
else:
    server = LocalServer().start()                      # stops with the kernel
    endpoint, app_key = server.endpoint, server.app_key
    target = {"server": server}
JOURNAL = Path(tempfile.mkdtemp(prefix="adrop-send-")) / "send.journal"  # what the code below delivered
print("sending to", endpoint)

# %% [markdown]
# ## A dry run shows the request
#
# The key is masked; nothing leaves the notebook.

# %%
with Sender(app_key, endpoint=endpoint, dry_run=True) as sender:
    print(sender.render_request({"uid": "user-1", "eventName": "sign_up", "method": "email"}))

# %% [markdown]
# ## Compose one event
#
# Choose an event: the form shows one input per parameter (`*` = required; an empty input means the
# key is absent). The violations and the JSON payload update as you type. **Fill an example**
# fills in valid values. With **dry run** on, the button shows the request; switch it off to send.

# %%
EventComposer(**target, event="sign_up")

# %% [markdown]
# ## Send a dataset
#
# A synthetic sample of 1,000 events (a few deliberately broken: they are skipped, with the reason).
# Press **Dry run** to see the first requests (key masked; nothing is sent), then **Send**: the progress
# bar and the counts follow the delivery, and the tables list the problems and each row's outcome.
#
# Nothing is sent twice: the panel keeps a journal of what it delivered (in memory, one per endpoint
# and key, while the panel lives), so pressing **Send** again skips those rows and says so.
# **Forget sent rows** clears it, to send them again on purpose; `SendPanel(data, journal="send.journal")`
# keeps the journal in a file instead, across sessions.

# %%
data = sample_frame(1_000, seed=3)
SendPanel(data, **target)

# %% [markdown]
# The same in code. Against a real endpoint this cell only does a dry run unless you change `DRY_RUN`.
# Its journal (`JOURNAL`, a file in a temporary folder made in the first cell) remembers what was
# delivered: run the cell twice and the second run sends nothing again (every row is
# `already_delivered`).

# %%
DRY_RUN = server is None
with Sender(app_key, endpoint=endpoint, dry_run=DRY_RUN, concurrency=8, progress=False,
            journal=JOURNAL) as sender:
    sent = sender.send_all(data)
sent

# %%
server.stats() if server is not None else "sent to " + endpoint
