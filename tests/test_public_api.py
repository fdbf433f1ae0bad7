"""The public face: `adrop_kit` re-exports exactly what `__all__` says, each name the real object
(signature and docstring included), and importing it stays light."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import adrop_kit

HEAVY = ("uvicorn", "h11", "httptools", "polars", "pandas", "pandera", "pyarrow", "matplotlib", "ipywidgets")


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip()


def test_all_matches_the_public_names():
    public = {n for n in dir(adrop_kit) if not n.startswith("_") and not _is_module(getattr(adrop_kit, n))}
    assert set(adrop_kit.__all__) - {"__version__"} == public - {"annotations"}


def _is_module(obj: object) -> bool:
    return type(obj).__name__ == "module"


def test_importing_the_package_loads_no_http_server_and_no_dataframe_library():
    code = f"import sys, adrop_kit; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    assert _fresh(code) == "[]"


def test_every_name_of_all_resolves_in_a_fresh_process():
    code = ("import adrop_kit; missing = [n for n in adrop_kit.__all__ if getattr(adrop_kit, n, None) is None]; "
            "print(missing)")
    assert _fresh(code) == "[]"


@pytest.mark.parametrize(("name", "home"), [
    ("validate_events", "adrop_kit.validate.dataset"),
    ("LocalServer", "adrop_kit.server.app"),
    ("Faults", "adrop_kit.server.faults"),
    ("HTTPTransport", "adrop_kit.send.http"),
    ("RequestsTransport", "adrop_kit.send.http"),
    ("ASGITransport", "adrop_kit.send.asgi"),
])
def test_a_lazily_exported_name_is_the_real_object_with_its_real_signature(name, home):
    real = getattr(importlib.import_module(home), name)
    assert getattr(adrop_kit, name) is real
    assert inspect.signature(getattr(adrop_kit, name)) == inspect.signature(real)
    assert getattr(adrop_kit, name).__doc__ == real.__doc__
    assert name in dir(adrop_kit)


def test_validate_events_shows_its_keywords_not_kwargs():
    params = inspect.signature(adrop_kit.validate_events).parameters
    assert {"catalog", "strict", "engine", "stream", "violations_out"} <= set(params)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        adrop_kit.no_such_name  # noqa: B018


def test_the_charts_load_matplotlib_only_when_asked_for():
    code = ("import sys; import adrop_kit.explore as e; before = 'matplotlib' in sys.modules; "
            "f = e.plot_funnel; from adrop_kit.explore import plots; "
            "print(before, f is plots.plot_funnel, 'plot_funnel' in dir(e))")
    assert _fresh(code) == "False True True"


def test_a_widget_without_ipywidgets_says_what_to_install():
    code = ("import sys; sys.modules['ipywidgets'] = None\n"
            "import adrop_kit.widgets\n"
            "try:\n    adrop_kit.widgets.EventComposer\n"
            "except ImportError as exc:\n    print(exc)\n")
    out = _fresh(code)
    assert "ipywidgets" in out and "pip install 'adrop-kit[notebooks]'" in out
