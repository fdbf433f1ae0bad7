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
# # Validate a dataset
#
# Check every row of an event dataset against Adrop's event contract before anything is sent:
# which rows Adrop would reject with `!invalid` (errors, rule ids `E…`) and which it would accept
# but are probably a data bug (warnings, `W…`). Each violation names its rule and the row it is
# on (the 0-based position in the file), so nothing is lost or misattributed.
#
# By default this runs on a synthetic sample: 5,000 realistic events with a few percent of
# deliberate mistakes. **To check your own data, set `DATA` below** to a `.csv`, `.jsonl`, `.json`
# or `.parquet` file; a relative path starts in this notebook's folder (the kernel's working
# directory), not where you started JupyterLab. Nothing is sent anywhere: no account or key is needed.

# %%
# %matplotlib inline
import polars as pl

import adrop_kit
from adrop_kit import explore as an
from adrop_kit.explore.synth import sample_frame
from adrop_kit.widgets import DatasetValidator

DATA = None  # ← or the path of your own events: "events.csv", "events.jsonl", "events.parquet", …

report = adrop_kit.validate_events(sample_frame(5_000, seed=7) if DATA is None else DATA)
report

# %% [markdown]
# ## By rule
#
# How many violations each rule has, and on how many distinct rows. `adrop-kit rules` (or the
# README) explains every rule id.

# %%
report.by_rule()

# %% [markdown]
# ## Failures by rule
#
# Red bars are errors (Adrop rejects those rows), orange ones warnings (accepted, but worth a look).

# %%
an.plot_failures_by_rule(report)

# %% [markdown]
# ## One rule at a time
#
# `report.violations` is a polars DataFrame with one row per broken rule: filter it like any other.

# %%
report.violations.filter(pl.col("rule") == "E005").head(8)

# %% [markdown]
# ## The interactive validator
#
# The same report as a widget: filter the failures by rule and by event, look at the chart, and
# download the failures and the clean rows as CSV (or save both into a folder). Use **Upload file**
# to check another file, or type a path: the widget says where a relative path resolved to (this
# notebook's folder), and where it looked when there is no file.

# %%
DatasetValidator(report, name=DATA or "synthetic sample (seed 7)")

# %% [markdown]
# ## What is safe to send
#
# `report.valid_rows` keeps the rows without errors (warnings allowed), in their original order,
# in your own columns with your values as they came in. `report.invalid_rows` has the others:
# `row` (the position the violations name), your columns (a `"12,900"` price stays in `price`) and
# `raw` (the text of a row that is not an event). Notebook 04 sends the valid ones, to the local
# server by default.

# %%
clean = report.valid_rows
print(f"{clean.height:,} of {report.rows:,} rows are safe to send; {report.invalid:,} need fixing first")
report.invalid_rows.head()
