"""pytest plugin (entry point `pytest11`, active once adrop-kit is installed): test your own Adrop integration.

Fixtures
    adrop_server   a local Adrop-compatible server (`adrop_kit.server.LocalServer`): `.url`, `.endpoint`,
                   `.app_key`, `.events(status)`, `.stats()`, `.reset()`. It runs in this process
                   and listens on 127.0.0.1 only once a test asks for its `.url`/`.endpoint`/`.port`.
                   One server per session, emptied before each test; a test marked
                   `@pytest.mark.adrop_server(strict=True, faults=Faults(...), ...)` gets its own,
                   and `socket=True` starts that one on a real socket at once.
    adrop_sender   a `Sender` for `adrop_server` (its key, its catalog, no progress bar), in process
                   (`adrop_kit.testing.local.local_transport`: the real app, no socket), or over
                   HTTP when the server was marked `socket=True` or the marker names an
                   `endpoint`/`transport`; `@pytest.mark.adrop_sender(validate=False, ...)` passes options.
    adrop_catalog  the catalog: standard, or extended by the `adrop_plan` ini option.

ini options: `adrop_plan` (a tracking plan file, relative to the ini file), `adrop_strict`.

Hypothesis: a `@given` test that asks for `adrop_server` or `adrop_sender` works with default settings.
Those fixtures are built once per test and shared by its examples (the server is not emptied between
examples; count what a test sent with `adrop_server.stats()` before and after), so the plugin
suppresses hypothesis' `function_scoped_fixture` health check for such a test, and, as a send goes
through a server, it lifts the default 200 ms deadline (`deadline=None`) and the `too_slow` health
check, which a busy machine would trip. A deadline the test sets itself is kept.

The profile "adrop-ci" (`adrop_kit.testing.strategies.CI_PROFILE`) is registered, never
loaded unless asked: `pytest --hypothesis-profile=adrop-ci`.

Loading the plugin imports neither hypothesis nor polars: every fixture imports what it needs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from adrop_kit.send.sender import Sender
    from adrop_kit.server import LocalServer
    from adrop_kit.spec.catalog import Catalog

CI_PROFILE = "adrop-ci"  # the same name as testing.strategies.CI_PROFILE, without importing hypothesis


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("adrop_plan", "tracking plan (.toml or .json) for the adrop_server fixture and adrop_catalog; "
                                "relative to the ini file", default="")
    parser.addini("adrop_strict", "the adrop_server fixture rejects events outside the catalog (W101, W110 are errors)",
                  type="bool", default=False)


@pytest.hookimpl(tryfirst=True)  # before hypothesis' own plugin loads the profile named on the command line
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "adrop_server(**options): this test gets its own local Adrop server, "
                                       "built with LocalServer(**options), e.g. strict=True or faults=Faults(...); "
                                       "socket=True: on a real loopback socket from the start")
    config.addinivalue_line("markers", "adrop_sender(**options): options for the adrop_sender fixture's Sender")
    if config.getoption("hypothesis_profile", None) == CI_PROFILE or "hypothesis" in sys.modules:
        import adrop_kit.testing.strategies  # noqa: F401  # registers the profile; loading it stays hypothesis' job


ADROP_FIXTURES = frozenset({"adrop_server", "adrop_sender"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Settings that fit a `@given` test sending through the adrop fixtures (see the module's docstring)."""
    for item in items:
        test = getattr(item, "obj", None)
        if not getattr(test, "is_hypothesis_test", False) or not ADROP_FIXTURES & set(
                getattr(item, "fixturenames", ())):
            continue
        from hypothesis import HealthCheck, settings

        inner = getattr(test, "__func__", test)
        current = getattr(inner, "_hypothesis_internal_use_settings", None) or settings.default
        deadline = None if current.deadline == settings.default.deadline else current.deadline
        inner._hypothesis_internal_use_settings = settings(  # the attribute hypothesis' own plugin sets
            current, deadline=deadline,
            suppress_health_check={*current.suppress_health_check, HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow})


def _plan_path(config: pytest.Config) -> Path | None:
    plan = str(config.getini("adrop_plan") or "").strip()
    if not plan:
        return None
    path = Path(plan)
    if not path.is_absolute():
        path = (config.inipath.parent if config.inipath else config.rootpath) / path
    return path


@pytest.fixture(scope="session")
def adrop_catalog(pytestconfig: pytest.Config) -> Catalog:
    """The catalog the fixtures use: standard, or extended by the `adrop_plan` ini option."""
    from adrop_kit.errors import PlanError
    from adrop_kit.spec.catalog import Catalog

    path = _plan_path(pytestconfig)
    if path is None:
        return Catalog.standard()
    try:
        return Catalog.from_file(path)
    except PlanError as exc:
        raise pytest.UsageError(f"adrop_plan: {exc}") from None


def _server_options(config: pytest.Config, catalog: Catalog, overrides: dict[str, Any]) -> dict[str, Any]:
    return {"catalog": catalog, "strict": bool(config.getini("adrop_strict")), **overrides}


@pytest.fixture(scope="session")
def _adrop_session_server(pytestconfig: pytest.Config, adrop_catalog: Catalog) -> Iterator[LocalServer]:
    from adrop_kit.testing.local import local_server

    srv = local_server(socket="on_demand", **_server_options(pytestconfig, adrop_catalog, {}))
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def adrop_server(request: pytest.FixtureRequest, adrop_catalog: Catalog) -> Iterator[LocalServer]:
    """A running local Adrop server, empty at the start of the test."""
    marker = request.node.get_closest_marker("adrop_server")
    if marker is not None and (marker.args or marker.kwargs):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.adrop_server takes keyword options only, e.g. strict=True")
        from adrop_kit.testing.local import local_server

        options = dict(marker.kwargs)
        socket = True if options.pop("socket", False) else "on_demand"
        srv = local_server(socket=socket, **_server_options(request.config, adrop_catalog, options))
        try:
            yield srv
        finally:
            srv.close()
        return
    srv: LocalServer = request.getfixturevalue("_adrop_session_server")
    srv.reset()
    yield srv


@pytest.fixture
def adrop_sender(request: pytest.FixtureRequest, adrop_server: LocalServer) -> Iterator[Sender]:
    """A `Sender` for `adrop_server`: its key, catalog and strictness; closed after the test.
    In process unless the server was marked `socket=True` or the options name an endpoint or a transport.
    No journal unless the marker asks for one (`journal=`): the server is fresh for each test, so a
    journal kept from an earlier test session would wrongly skip what it already sent there."""
    from adrop_kit.send.retry import RetryPolicy
    from adrop_kit.send.sender import Sender
    from adrop_kit.testing.local import local_transport

    marker = request.node.get_closest_marker("adrop_sender")
    options: dict[str, Any] = {"catalog": adrop_server.catalog, "strict": adrop_server.strict, "progress": False,
                               "retry": RetryPolicy(backoff=0.05), "journal": False,
                               **(marker.kwargs if marker else {})}
    server_marker = request.node.get_closest_marker("adrop_server")
    over_http = bool(server_marker and server_marker.kwargs.get("socket")) or "transport" in options
    if "endpoint" not in options:
        if over_http:
            options["endpoint"] = adrop_server.endpoint
        else:
            options["transport"] = local_transport(adrop_server)
    with Sender(adrop_server.app_key, **options) as sender:
        yield sender
