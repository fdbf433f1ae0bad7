"""The one progress helper: a tqdm bar in a terminal or a notebook, nothing when nobody watches.

`progress_bar(total, enabled)`: `enabled=True` always shows one, `False` never, `None` (the
default everywhere) shows one when stderr is a terminal or the code runs in a Jupyter kernel,
and not in CI. tqdm.auto picks the notebook widget or the text bar.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def progress_bar(total: int, enabled: bool | None = None, *, unit: str = "ev", desc: str = "",
                 leave: bool = True) -> Any:
    """A tqdm bar (with `update(n)` and `close()`), or None when no bar should be shown."""
    if enabled is False:
        return None
    if enabled is None and not in_notebook() and (os.environ.get("CI") or not sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit=unit, desc=desc, leave=leave)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


__all__ = ["in_notebook", "progress_bar"]
