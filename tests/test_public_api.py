"""The public face: `adrop_kit` re-exports exactly what `__all__` says, and imports light."""

from __future__ import annotations

import subprocess
import sys

import adrop_kit


def test_all_matches_the_public_names():
    public = {n for n in dir(adrop_kit) if not n.startswith("_") and not _is_module(getattr(adrop_kit, n))}
    assert set(adrop_kit.__all__) - {"__version__"} == public - {"annotations"}


def _is_module(obj: object) -> bool:
    return type(obj).__name__ == "module"


def test_importing_the_package_does_not_load_polars_or_pandas():
    code = "import sys, adrop_kit; print(sorted(m for m in ('polars', 'pandas', 'pandera') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
