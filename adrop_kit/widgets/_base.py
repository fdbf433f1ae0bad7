"""What every view shares: display through its `.widget`, the app key input, closing."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from adrop_kit.send.transport import KEY_ENV
from adrop_kit.widgets._target import Target


class View:
    """A thin view: `.widget` is the ipywidgets tree; displaying the view displays it.

    Nothing is displayed in `__init__`: show a view by leaving it last in a cell or with `display(view)`.
    """

    widget: w.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close the widgets (and an embedded server this view started)."""
        target = getattr(self, "target", None)
        if isinstance(target, Target):
            target.close()
        _close_tree(self.widget)

    def __enter__(self) -> View:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _close_tree(widget: w.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


class KeyInput:
    """A Password box whose value is moved into `target` and cleared at once.

    The key therefore never stays in widget state (nor in a saved notebook); the view shows it masked.
    """

    def __init__(self, target: Target, on_change: Any = None) -> None:
        self.target = target
        self._on_change = on_change
        self.password = w.Password(description="app key", placeholder=f"paste to use; default ${KEY_ENV}",
                                   layout=w.Layout(width="320px"))
        self.password.observe(self._take, names="value")

    def _take(self, change: dict[str, Any]) -> None:
        key = change["new"]
        if not key:
            return
        self.password.value = ""
        self.target.set_key(key)
        if self._on_change is not None:
            self._on_change()


def small(text: str) -> w.HTML:
    return w.HTML(f"<span style='color:#666;font-size:0.9em'>{text}</span>")
