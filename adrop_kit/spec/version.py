"""adrop_kit's version, read once from the installed package's metadata (pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("adrop-kit")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

USER_AGENT = f"adrop-kit/{__version__}"
"""What the sender says it is."""

__all__ = ["USER_AGENT", "__version__"]
