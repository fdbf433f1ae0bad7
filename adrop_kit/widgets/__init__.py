"""Thin ipywidgets views over the library: each builds its controls from the catalog or a report,
keeps its logic in plain functions (`adrop_kit.widgets._logic`) and displays nothing until shown.

    from adrop_kit.widgets import EventComposer, DatasetValidator, FuzzLab, SendPanel
    DatasetValidator("events.jsonl")        # last in a cell: the widget appears

Needs the notebook extras: `pip install 'adrop-kit[notebooks]'` (ipywidgets, matplotlib).
The app key is read from $ADROP_APP_KEY or typed into a password box that is cleared at once;
it is kept in a private attribute and only ever shown masked.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DatasetValidator", "EventComposer", "FuzzLab", "SendPanel"]

_MODULES = {"EventComposer": "composer", "DatasetValidator": "validator", "FuzzLab": "fuzz", "SendPanel": "send"}


def __getattr__(name: str) -> Any:  # import ipywidgets only when a view is asked for
    if name in _MODULES:
        try:
            import ipywidgets  # noqa: F401
        except ImportError as exc:
            raise ImportError("adrop_kit.widgets needs ipywidgets: pip install 'adrop-kit[notebooks]'") from exc
        from importlib import import_module

        return getattr(import_module(f".{_MODULES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
