"""Contract testing: `run_contract` / `adrop-kit fuzz` find where an endpoint's rules differ from ours.

The endpoint is the local server (the plugin's `adrop_server`), started with deliberately
different rules (`@pytest.mark.adrop_server(strict=True)`, a tracking plan the fuzz run does not
know), so every difference is known in advance.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from conftest import KEY

from adrop_kit import Catalog, RetryPolicy, UnknownEvent, validate_event
from adrop_kit.cli import main
from adrop_kit.cli.exits import for_contract
from adrop_kit.send.transport import mask_key
from adrop_kit.testing.contract import UID_PREFIX, ContractRefused, ContractRun, Disagreement, ProbeResult, run_contract
from adrop_kit.testing.strategies import breakable_rules

SIGN_UP_REFERRER = Catalog.standard().extend(
    {"events": {"sign_up": {"params": {"referrer": {"type": "string", "required": True}}}}})


def _uids(report: Any) -> list[str]:
    out = []
    for r in report.results:
        if isinstance(r.payload, dict) and isinstance(r.payload.get("uid"), str) and r.rule not in ("E002", "W106"):
            out.append(r.payload["uid"])
    return out


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no network call was expected")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# -- the same rules on both sides: everything agrees --------------------------------------
def test_an_endpoint_with_the_same_rules_agrees_on_every_pair(adrop_server: Any) -> None:
    report = run_contract(adrop_server, examples=60, seed=7)
    stats = adrop_server.stats()
    assert report.ok and for_contract(report) == 0 and report.error is None
    assert report.disagreements == []
    pairs = {(s["event"], s["rule"]) for s in report.summary() if s["sent"]}
    assert pairs == set(report.pairs), "every (event, rule) pair was sent at least once"
    assert ("app_open", None) in pairs and ("purchase", "E007") in pairs and ("add_to_cart", "W105") in pairs
    assert ("app_open", "E005") not in pairs, "app_open has no required parameter to break"
    assert stats["total"] == report.requests == len(report.results)
    expected_accepted = {r.expected for r in report.results if r.rule is None or r.rule.startswith("W")}
    assert expected_accepted == {"accepted"}
    assert {r.expected for r in report.results if r.rule and r.rule.startswith("E")} == {"rejected"}
    assert all(uid.startswith(UID_PREFIX) for uid in _uids(report)), "fuzz traffic is recognisable"


def test_the_cli_probes_an_embedded_server_without_an_account(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--examples", "20", "--seed", "3", "--events", "app_open,purchase"]) == 0
    out = capsys.readouterr().out
    assert "embedded local server" in out and "seed 3" in out
    assert "purchase" in out and "E007" in out
    assert "agreed with adrop_kit on all" in out


def test_a_seed_reproduces_a_run(adrop_server: Any) -> None:
    runs = [run_contract(adrop_server, events=["add_to_cart"], examples=30, seed=11) for _ in range(2)]
    other = run_contract(adrop_server, events=["add_to_cart"], examples=30, seed=12)
    assert [r.body for r in runs[0].results] == [r.body for r in runs[1].results]
    assert [r.body for r in runs[0].results] != [r.body for r in other.results]


# -- a strict server: W101 is an error there ------------------------------------------------
@pytest.mark.adrop_server(strict=True)
def test_a_strict_endpoint_disagrees_on_custom_events_only_and_the_payload_is_minimal(adrop_server: Any) -> None:
    report = run_contract(adrop_server, examples=40, seed=1)
    assert not report.ok and for_contract(report) == 1
    assert {d.rule for d in report.disagreements} <= {"W101", "W110"}
    assert {d.event for d in report.disagreements} == set(Catalog.standard().names), "one per event"
    for d in report.disagreements:
        assert (d.expected, d.observed, d.status, d.message) == ("accepted", "rejected", 400, "!invalid")
        assert d.local_rules == (d.rule,)  # W101, or W110 for a near miss
        required = {p.name for p in Catalog.standard()[d.event].required}
        assert set(d.payload) == {"uid", "eventName"} | required, d.payload
        assert d.payload["eventName"] not in Catalog.standard()
        assert d.payload["uid"].startswith(UID_PREFIX)
    app_open = next(d for d in report.disagreements if d.event == "app_open")
    assert set(app_open.payload) == {"uid", "eventName"}, "a custom event with only uid and eventName"
    assert validate_event(app_open.payload, strict=True).rules == {app_open.rule}


# the server knows a custom event `custom_event` with a required parameter: only payloads
# renamed to it are rejected, so the search must find that name and shed everything else
CUSTOM_EVENT_LEVEL = Catalog.standard().extend({"events": {"custom_event": {"params": {
    "level": {"type": "integer", "required": True}}}}})


@pytest.mark.adrop_server(catalog=CUSTOM_EVENT_LEVEL)
def test_shrinking_keeps_what_makes_the_endpoint_disagree_and_drops_the_rest(adrop_server: Any) -> None:
    report = run_contract(adrop_server, events=["view_item"], rules=["W101"], valid=True, examples=60, seed=3)
    stats = adrop_server.stats()
    [d] = report.disagreements
    assert (d.event, d.rule) == ("view_item", "W101")
    assert d.original["eventName"] == "custom_event" and d.original != d.payload
    assert d.shrunk and 0 < d.shrink_requests <= 200
    assert set(d.payload) == {"uid", "eventName", "item_id"} and d.payload["eventName"] == "custom_event"
    assert len(d.payload["uid"]) <= len(UID_PREFIX) + 2 and len(d.payload["item_id"]) <= len("ITEM-0")
    assert stats["total"] == report.requests == len(report.results) + d.shrink_requests
    sent = next(r for r in report.results if not r.agreed)
    assert sent.payload == d.original


@pytest.mark.adrop_server(catalog=CUSTOM_EVENT_LEVEL)
def test_the_shrinking_budget_bounds_the_requests(adrop_server: Any) -> None:
    report = run_contract(adrop_server, events=["view_item"], rules=["W101"], valid=False, examples=60, seed=3,
                          max_shrink_requests=3)
    unshrunk = run_contract(adrop_server, events=["view_item"], rules=["W101"], valid=False, examples=60, seed=3,
                            shrink=False)
    [d] = report.disagreements
    assert d.shrink_requests <= 3
    assert report.requests <= len(report.results) + 3
    [u] = unshrunk.disagreements
    assert not u.shrunk and u.payload == u.original and unshrunk.requests == len(unshrunk.results)


# -- a tracking plan on the server only ------------------------------------------------------
@pytest.mark.adrop_server(catalog=SIGN_UP_REFERRER)
def test_a_required_parameter_only_the_server_knows_is_found_on_sign_up(adrop_server: Any) -> None:
    report = run_contract(adrop_server, examples=60, seed=5)
    assert {d.event for d in report.disagreements} == {"sign_up"}
    valid = next(d for d in report.disagreements if d.rule is None)
    assert valid.expected == "accepted" and valid.observed == "rejected"
    assert set(valid.payload) == {"uid", "eventName", "method"}, "shrunk: no platform, no optional keys"
    assert valid.payload["eventName"] == "sign_up"
    # the other sign_up payloads the contract accepts (with a warning) are rejected there too
    assert {d.rule for d in report.disagreements} <= {None, *breakable_rules("sign_up")}
    assert all(d.expected == "accepted" for d in report.disagreements)
    summary = {(s["event"], s["rule"]): s for s in report.summary()}
    assert summary[("sign_up", None)]["disagreed"] == summary[("sign_up", None)]["sent"] > 0
    assert summary[("sign_up", "E005")]["disagreed"] == 0, "both sides reject a sign_up without method"


def test_the_cli_reports_disagreements_with_a_minimal_payload_and_curl(capsys: pytest.CaptureFixture[str],
                                                                       tmp_path: Any) -> None:
    plan = tmp_path / "server-plan.toml"
    plan.write_text('[events.sign_up.params]\nreferrer = { type = "string", required = true }\n')
    code = main(["fuzz", "--examples", "20", "--seed", "2", "--events", "sign_up,app_open", "--server-plan", str(plan)])
    out = capsys.readouterr().out
    assert code == 1
    assert "sign_up, a valid payload: adrop_kit accepts it; the endpoint rejected it (400 !invalid)" in out
    assert '{"eventName":"sign_up","uid":"adrop-kit-fuzz-' in out
    assert "curl -sS -X POST http://localhost/event" in out and "--data-binary" in out  # in process: no port
    assert "Re-run with --seed 2" in out


# -- the key never leaks -----------------------------------------------------------------------
@pytest.mark.adrop_server(strict=True, app_keys=[KEY])
def test_the_curl_command_carries_the_masked_key_never_the_real_one(adrop_server: Any,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_contract(adrop_server, events=["app_open"], rules=["W101"], examples=10, seed=1)
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    for fmt in ("table", "json"):
        assert main(["fuzz", "--endpoint", adrop_server.endpoint, "--events", "app_open", "--examples", "10",
                     "--format", fmt]) == 1
    [d] = report.disagreements
    assert f"'Authorization: {mask_key(KEY)}'" in d.curl
    out = capsys.readouterr().out
    for text in (d.curl, report.to_json(), report._repr_html_(), repr(report), out):
        assert KEY not in text
    assert mask_key(KEY) in out


# -- safety with a real (non-loopback) endpoint -------------------------------------------------
def test_valid_events_go_to_a_remote_host_only_with_yes(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _no_network(monkeypatch)  # the refusal comes before any connection or DNS lookup
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    assert main(["fuzz", "--endpoint", "https://example.invalid/event"]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and "example.invalid" in err and "--invalid-only" in err
    with pytest.raises(ContractRefused, match="yes=True"):
        run_contract("https://example.invalid/event", app_key=KEY, rules=["E005"])
    with pytest.raises(ContractRefused, match="W102"):  # warnings are accepted, so stored, too
        run_contract("https://example.invalid/event", app_key=KEY, valid=False, rules=["E005", "W102"])


def test_a_remote_run_is_gentle_and_invalid_only_needs_no_yes(adrop_server: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _no_network(monkeypatch)
    run = ContractRun("https://example.invalid/event", KEY, valid=False, rules=["E001", "E005"])
    assert run.rate == 2.0, "a gentle default rate off this machine"
    assert set(run.expected.values()) == {"rejected"}
    assert ContractRun("https://example.invalid/event", KEY, yes=True, rate=5).rate == 5
    assert ContractRun("https://example.invalid/event", KEY, yes=True, strict=True, valid=False,
                       rules=["W101"]).expected[("app_open", "W101")] == "rejected"
    assert ContractRun(adrop_server).rate is None, "no limit on loopback"


def test_plain_http_off_this_machine_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _no_network(monkeypatch)
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    assert main(["fuzz", "--endpoint", "http://example.invalid/event", "--invalid-only"]) == 2
    assert "http://" in capsys.readouterr().err


# -- failures ---------------------------------------------------------------------------------------
def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_an_unreachable_endpoint_exits_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    url = f"http://127.0.0.1:{_dead_port()}/event"
    assert main(["fuzz", "--endpoint", url, "--events", "app_open", "--retries", "1"]) == 3
    out = capsys.readouterr().out
    assert "Stopped: no usable reply" in out and "connection refused" in out
    report = run_contract(url, KEY, events=["app_open"], retry=RetryPolicy(retries=0))
    assert report.error and for_contract(report) == 3 and not report.ok and report.requests == 1


def test_a_wrong_key_stops_the_run_with_exit_3(adrop_server: Any) -> None:
    report = run_contract(adrop_server.endpoint, "not-the-key", events=["app_open"], examples=5)
    assert for_contract(report) == 3 and "401" in report.error and report.requests == 1


@pytest.mark.parametrize(("argv", "says"), [
    (["--events", "nope"], "nope"),
    (["--rules", "E999"], "E999"),
    (["--rules", "W107"], "dataset"),
    (["--events", "app_open", "--rules", "E007"], "no event"),
    (["--endpoint", "http://127.0.0.1:1/event", "--server-strict"], "embedded"),
    (["--endpoint", "ftp://x/event"], "http"),
])
def test_usage_problems_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    assert main(["fuzz", *argv]) == 2
    assert says in capsys.readouterr().err


def test_impossible_arguments_raise_before_anything_is_sent() -> None:
    for kwargs, error in [({"examples": 0}, ValueError), ({"events": ["nope"]}, UnknownEvent),
                          ({"valid": False, "invalid": False}, ValueError), ({"rate": 0}, ValueError),
                          ({"rules": ["E999"]}, ValueError)]:
        with pytest.raises(error):
            run_contract("http://127.0.0.1:1/event", KEY, **kwargs)


# -- the engine, for other front ends --------------------------------------------------------------
@pytest.mark.adrop_server(strict=True)
def test_on_result_follows_the_run_and_can_stop_it(adrop_server: Any) -> None:
    seen: list[Any] = []
    report = run_contract(adrop_server, events=["app_open"], examples=10, seed=1, on_result=seen.append)
    stopped = run_contract(adrop_server, events=["app_open"], examples=10, seed=1, on_result=lambda r: False)
    assert [s for s in seen if isinstance(s, ProbeResult)] == report.results
    assert [s for s in seen if isinstance(s, Disagreement)] == report.disagreements
    assert stopped.interrupted and len(stopped.results) == 1 and not stopped.ok


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--examples", "15", "--seed", "4", "--events", "app_open,add_to_cart", "--server-strict",
                 "--format", "json"]) == 1

    def strict_json(token: str) -> Any:
        raise AssertionError(f"not strict JSON: {token}")

    data = json.loads(capsys.readouterr().out, parse_constant=strict_json)
    assert set(data) == {"endpoint", "catalog", "strict", "seed", "ok", "error", "interrupted", "totals", "summary",
                         "disagreements", "results"}
    assert data["seed"] == 4 and data["ok"] is False and data["error"] is None
    assert set(data["totals"]) == {"sent", "agreed", "disagreed", "pairs", "pairs_disagreed", "requests", "elapsed_s"}
    assert data["totals"]["sent"] == len(data["results"]) == sum(s["sent"] for s in data["summary"])
    assert all(set(s) == {"event", "rule", "sent", "agreed", "disagreed"} for s in data["summary"])
    assert {(d["event"], d["rule"]) for d in data["disagreements"]} == {
        (e, r) for e in ("app_open", "add_to_cart") for r in ("W101", "W110")}
    d = data["disagreements"][0]
    assert set(d) == {"event", "rule", "expected", "observed", "status", "message", "local_rules", "payload", "body",
                      "original_body", "shrunk", "shrink_requests", "curl"}
    assert json.loads(d["body"]) == d["payload"] and d["curl"].startswith("curl ")
    r = data["results"][0]
    assert set(r) == {"event", "rule", "expected", "observed", "status", "message", "agreed", "body"}


@pytest.mark.adrop_server(strict=True)
def test_the_report_renders_in_a_notebook(adrop_server: Any) -> None:
    report = run_contract(adrop_server, events=["app_open"], examples=5, seed=1)
    page = report._repr_html_()
    assert "W101" in page and "disagreed" in page and "<pre>" in page
