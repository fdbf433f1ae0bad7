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
# # Import a GA4 export
#
# Events rarely start in Adrop's shape. This notebook takes a **GA4 / Firebase BigQuery export**
# (here a synthetic one, shaped as Google's export schema: nested `event_params`, INT64 written as
# strings, `(not set)` placeholders, `add_to_cart` rows listing the 12 items on screen), maps it to
# Adrop events with the default mapping, shows the **mapping report** (what was mapped, skipped,
# lost, and what would be invalid), validates the output and sends it as a **dry run**. The last
# cell is a widget to try the mapping choices a team has to make.
#
# The same steps on the command line: `adrop-kit import ga4 EXPORT --out events.parquet`, then
# `adrop-kit validate events.parquet` and `adrop-kit send events.parquet --dry-run`.

# %%
import tempfile
from pathlib import Path

import adrop_kit
from adrop_kit.explore.ga4_sample import write_ga4_sample
from adrop_kit.send.sender import Sender
from adrop_kit.widgets import MappingLab

work = Path(tempfile.mkdtemp(prefix="adrop-import-"))
export = write_ga4_sample(work / "events_20241201.json", 2_000, seed=7)   # BigQuery's NDJSON export
print(export.read_text(encoding="utf-8").splitlines()[0][:400], "…")

# %% [markdown]
# ## Map it, and see what the mapping did
#
# `rows == mapped_rows + sum(skipped)`. `lost` counts the source fields that held a value no Adrop
# field carries: revenue, tax and shipping (Adrop's `purchase` has none), item variants, and the
# other items of a row that listed the whole screen.

# %%
events_path = work / "events.parquet"
_, report = adrop_kit.importers.ga4(export, out=events_path)
summary = report.to_dict()
{k: summary[k] for k in ("rows", "mapped_rows", "events", "invalid")}

# %%
print("skipped:", report.skipped)
print("by event:", report.by_event)
print("lost:", report.lost)

# %% [markdown]
# ## Validate the output
#
# `ts`, `_source` and `_row` are metadata: never checked, never sent. The invalid count is the
# report's: the same checks.

# %%
checked = adrop_kit.validate_events(events_path)
assert checked.invalid == report.invalid
checked.by_rule()

# %% [markdown]
# ## A dry run of the send
#
# Nothing leaves the notebook: the requests are built and shown, the valid events counted.

# %%
with Sender(dry_run=True, progress=False) as sender:
    sent = sender.send_all(events_path, dry_run_preview=2)
print(sent.summary())
print(sent.requests[0])

# %% [markdown]
# ## Try the mapping choices
#
# Where `page_id` comes from, which items an `add_to_cart` or `view_item` row gives (one event per
# item **with a quantity**, per item, or the item the row is about), and whether events with no
# Adrop counterpart are kept as custom events. Each change re-runs the import; `lab.mapping` is the
# mapping the controls describe. To keep a choice, write the default with
# `adrop-kit import ga4 --write-mapping ga4.toml`, edit it, and pass `--mapping ga4.toml`.

# %%
lab = MappingLab(export)
lab
