"""The pytest plugin, as a user meets it: a test file of theirs, run by pytest with adrop-kit installed."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

# Imported here, not first inside an in-process pytester run: pytester drops the modules a run
# imported, and a second copy of adrop_kit's modules would not share classes with the first.
_PRELOAD = [importlib.import_module(m) for m in (
    "polars", "pandas", "hypothesis", "adrop_kit.validate.schemas", "adrop_kit.io.frames", "adrop_kit.send.sender",
    "adrop_kit.server", "adrop_kit.testing.strategies", "adrop_kit.testing.contract")]


def test_loading_the_plugin_imports_neither_polars_nor_hypothesis() -> None:
    code = ("import sys, adrop_kit.testing.pytest_plugin; "
            "print(sorted(m for m in ('polars', 'pandas', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_fixtures_give_a_running_server_and_a_sender_for_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
        import urllib.request, json

        def test_send_one_event(adrop_server, adrop_sender):
            assert adrop_server.url.startswith("http://127.0.0.1:")
            assert adrop_server.endpoint == adrop_server.url + "/event"
            result = adrop_sender.send({"uid": "user-1", "eventName": "sign_up", "method": "email"})
            assert result.outcome == "delivered"
            assert adrop_server.stats() == {"total": 1, "good": 1, "bad": 0}
            [stored] = adrop_server.events("good")
            assert stored["eventName"] == "sign_up" and stored["uid_sha256"] != "user-1"

        def test_each_test_starts_with_an_empty_server(adrop_server):
            assert adrop_server.stats()["total"] == 0

        def test_the_key_is_the_servers(adrop_server, adrop_sender):
            req = urllib.request.Request(adrop_server.endpoint, method="POST", data=b'{"uid":"u","eventName":"x"}',
                                         headers={"Authorization": adrop_server.app_key,
                                                  "Content-Type": "application/json"})
            assert json.load(urllib.request.urlopen(req)) == {"message": "ok"}
            adrop_server.reset()
            assert adrop_server.events() == []

        ports = []

        def test_one_server_for_the_session(adrop_server):
            ports.append(adrop_server.port)

        def test_one_server_for_the_session_still(adrop_server):
            ports.append(adrop_server.port)
            assert ports[0] == ports[1]
    """)
    pytester.runpytest("-q").assert_outcomes(passed=5)


def test_markers_give_a_test_its_own_server_and_sender_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
        import pytest

        def test_default_is_not_strict(adrop_server, adrop_sender):
            assert adrop_sender.send({"uid": "u1", "eventName": "level_up"}).outcome == "delivered"

        @pytest.mark.adrop_server(strict=True)
        def test_a_strict_server(adrop_server, adrop_sender):
            assert adrop_server.strict
            # the sender follows the server: it skips what the server would reject
            assert adrop_sender.send({"uid": "u1", "eventName": "level_up"}).outcome == "skipped"

        @pytest.mark.adrop_server(strict=True)
        @pytest.mark.adrop_sender(validate=False)
        def test_sender_options(adrop_server, adrop_sender):
            assert adrop_sender.send({"uid": "u1", "eventName": "level_up"}).outcome == "rejected"
            assert adrop_server.stats()["bad"] == 1
    """)
    pytester.runpytest("-q").assert_outcomes(passed=3)


def test_a_tracking_plan_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plan='[events.level_up.params]\nlevel = { type = "integer", required = true }\n')
    pytester.makeini("[pytest]\nadrop_plan = plan.toml\nadrop_strict = true\n")
    pytester.makepyfile(test_user="""
        def test_plan(adrop_server, adrop_sender, adrop_catalog):
            assert "level_up" in adrop_catalog and adrop_server.strict
            assert adrop_sender.send({"uid": "u1", "eventName": "level_up", "level": 3}).outcome == "delivered"
            assert adrop_sender.send({"uid": "u1", "eventName": "level_up"}).outcome == "skipped"
            assert adrop_sender.send({"uid": "u1", "eventName": "boss_fight"}).outcome == "skipped"
    """)
    pytester.runpytest("-q").assert_outcomes(passed=1)


def test_a_broken_plan_is_a_usage_error_naming_the_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nadrop_plan = missing.toml\n")
    pytester.makepyfile(test_user="def test_x(adrop_server):\n    pass\n")
    result = pytester.runpytest("-q")
    result.stdout.fnmatch_lines(["*adrop_plan*missing.toml*"])
    assert result.ret != 0


_PROFILE_PROBE = """
    from hypothesis import given, settings, strategies as st
    from adrop_kit.testing.strategies import events

    def test_profile():
        print("PROFILE", settings.get_current_profile_name(), settings.default.derandomize,
              settings.default.deadline, settings.default.max_examples)

    @given(events("sign_up"))
    def test_drawn(payload):
        assert payload["eventName"] == "sign_up"
"""


def test_the_ci_profile_is_loaded_only_when_asked(pytester: pytest.Pytester) -> None:
    from hypothesis import settings

    pytester.makepyfile(test_user=_PROFILE_PROBE)
    ours = settings.get_current_profile_name()
    try:
        default = pytester.runpytest("-s", "-q")
        default.assert_outcomes(passed=2)
        default.stdout.fnmatch_lines([f"*PROFILE {ours} *"])
        assert settings.get_current_profile_name() == ours, "the plugin left the profile alone"
        asked = pytester.runpytest("-s", "-q", "--hypothesis-profile=adrop-ci")
        asked.assert_outcomes(passed=2)
        asked.stdout.fnmatch_lines(["*PROFILE adrop-ci True None 50*"])
    finally:  # in-process runs share hypothesis' global settings with this suite
        settings.load_profile(ours)


@pytest.mark.slow  # a fresh pytest process
def test_the_ci_profile_can_be_named_on_the_command_line_of_a_fresh_pytest(pytester: pytest.Pytester) -> None:
    # a fresh process, where nothing imported hypothesis before the command line was read
    pytester.makepyfile(test_user=_PROFILE_PROBE)
    result = pytester.runpytest_subprocess("-s", "-q", "-p", "no:schemathesis", "-p", "no:cacheprovider",
                                           "--hypothesis-profile=adrop-ci")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*PROFILE adrop-ci True None 50*"])


def test_a_given_test_can_send_through_the_fixtures_with_default_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
        import time
        from hypothesis import given, settings
        from adrop_kit.testing.strategies import events

        @settings(max_examples=5)
        @given(events("app_open"))
        def test_each_example_is_delivered(adrop_server, adrop_sender, payload):
            time.sleep(0.25)  # a busy machine: past hypothesis' default 200 ms deadline
            assert adrop_sender.send(payload).outcome == "delivered"

        @settings(deadline=50, max_examples=3)
        @given(events("app_open"))
        def test_a_deadline_of_ones_own_is_kept(adrop_sender, payload):
            time.sleep(0.2)
    """)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*DeadlineExceeded*"])
