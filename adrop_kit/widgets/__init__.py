"""Thin ipywidgets views over the library: each builds its controls from the catalog or a report,
keeps its logic in plain functions (`adrop_kit.widgets._logic`) and displays nothing until shown.

    from adrop_kit.widgets import EventComposer, DatasetValidator, FuzzLab, SendPanel
    DatasetValidator("events.jsonl")        # last in a cell: the widget appears

Needs the notebook extras: `pip install 'adrop-kit[notebooks]'` (ipywidgets, matplotlib).
The app key is read from $ADROP_APP_KEY or typed into a password box that is cleared at once;
it is kept in a private attribute and only ever shown masked.
"""

from __future__ import annotations

import typing as _typing

from adrop_kit.support.lazy import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from adrop_kit.widgets.composer import EventComposer
    from adrop_kit.widgets.fuzz import FuzzLab
    from adrop_kit.widgets.importer import MappingLab
    from adrop_kit.widgets.send import SendPanel
    from adrop_kit.widgets.validator import DatasetValidator

__all__ = ["DatasetValidator", "EventComposer", "FuzzLab", "MappingLab", "SendPanel"]

# ipywidgets (and matplotlib) are imported only when a view is asked for
_NOTEBOOKS = "pip install 'adrop-kit[notebooks]'"
__getattr__, __dir__ = _lazy_exports(__name__, {
    "DatasetValidator": "adrop_kit.widgets.validator",
    "EventComposer": "adrop_kit.widgets.composer",
    "FuzzLab": "adrop_kit.widgets.fuzz",
    "MappingLab": "adrop_kit.widgets.importer",
    "SendPanel": "adrop_kit.widgets.send",
}, needs={"ipywidgets": _NOTEBOOKS, "matplotlib": _NOTEBOOKS})
