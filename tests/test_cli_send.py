"""`adrop-kit send` / `serve` through `main([...])`: exit codes, JSON shape, the key never printed.

The server is the plugin's `adrop_server`; servers with faults are started here. `ADROP_APP_KEY`
holds `KEY` unless a test gives it the server's key.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import KEY, app_opens, write_jsonl

from adrop_kit.cli import main
from adrop_kit.server import Faults, LocalServer

GOOD = app_opens(10)


@pytest.fixture
def data(tmp_path):
    """`data(rows)`: the path of a JSONL file holding `rows`."""
    return lambda rows: str(write_jsonl(tmp_path / "events.jsonl", rows))


@pytest.fixture(autouse=True)
def key_env(monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)


def test_send_all_good_exits_0_with_the_json_shape(adrop_server, data, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    code = main(["send", data(GOOD), "--endpoint", adrop_server.endpoint, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)["summary"]
    assert {"total", "delivered", "rejected", "failed", "skipped", "already_delivered", "elapsed_s",
            "events_per_s"} <= set(summary)
    assert (summary["total"], summary["delivered"]) == (10, 10)
    assert adrop_server.app_key not in out + err and adrop_server.stats()["good"] == 10


def test_send_with_invalid_rows_exits_1_and_sends_the_rest(adrop_server, data, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    code = main(["send", data([*GOOD, {"uid": "u", "eventName": "sign_up"}]), "--endpoint", adrop_server.endpoint])
    out, _ = capsys.readouterr()
    assert code == 1 and "skipped" in out and "E005" in out
    assert adrop_server.stats()["good"] == 10


def test_send_to_a_dead_server_exits_3(data, capsys):
    code = main(["send", data(GOOD[:2]), "--endpoint", "http://127.0.0.1:9/event", "--retries", "1"])
    out, err = capsys.readouterr()
    assert code == 3 and "refused" in out and KEY not in out + err


def test_send_usage_errors_exit_2(data, monkeypatch, capsys):
    path = data(GOOD)
    assert main(["send", path, "--endpoint", "http://example.com/event"]) == 2
    assert "unencrypted" in capsys.readouterr().err
    assert main(["send", "/nope/missing.jsonl"]) == 2
    monkeypatch.delenv("ADROP_APP_KEY")
    assert main(["send", path, "--endpoint", "http://127.0.0.1:9/event"]) == 2
    err = capsys.readouterr().err
    assert "ADROP_APP_KEY" in err and "Traceback" not in err


def test_dry_run_sends_nothing_and_masks_the_key(adrop_server, data, capsys):
    code = main(["send", data(GOOD), "--endpoint", adrop_server.endpoint, "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0 and adrop_server.stats()["total"] == 0
    assert "Authorization: sk…89" in out and KEY not in out + err


def test_journal_resume_through_the_cli(data, tmp_path, capsys):
    journal = str(tmp_path / "j.db")
    path = data(GOOD)
    with LocalServer(app_keys=[KEY], faults=Faults(fail_rate=0.5, seed=2)) as srv:
        first = main(["send", path, "--endpoint", srv.endpoint, "--journal", journal, "--retries", "0"])
        assert first == 3
        srv.faults = Faults()
        capsys.readouterr()
        assert main(["send", path, "--endpoint", srv.endpoint, "--journal", journal, "--format", "json"]) == 0
        summary = json.loads(capsys.readouterr().out)["summary"]
        assert summary["delivered"] + summary["already_delivered"] == 10 and summary["already_delivered"] > 0
        assert srv.stats()["good"] == 10
    assert KEY.encode() not in open(journal, "rb").read()


def test_serve_runs_until_interrupted_and_never_prints_the_env_key(tmp_path):
    env = {**os.environ, "ADROP_APP_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "adrop_kit", "serve", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" on ")[1].split()[0]
        req = urllib.request.Request(url, data=b'{"uid":"u","eventName":"app_open"}', method="POST",
                                     headers={"Authorization": KEY, "Content-Type": "application/json"})
        assert json.loads(urllib.request.urlopen(req, timeout=5).read()) == {"message": "ok"}
        inspect = urllib.request.Request(url.replace("/event", "/_local/stats"), headers={"Authorization": KEY})
        stats = json.loads(urllib.request.urlopen(inspect, timeout=5).read())
        assert stats["good"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert KEY not in line + out + err


def test_serve_generates_a_key_when_none_is_given(monkeypatch):
    env = {k: v for k, v in os.environ.items() if k != "ADROP_APP_KEY"}
    proc = subprocess.Popen([sys.executable, "-m", "adrop_kit", "serve", "--port", "0"],
                            env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        proc.stdout.readline()
        key_line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert "generated" in key_line and "local-" in key_line


def test_serve_warns_loudly_off_loopback(capsys):
    # 192.0.2.1 is TEST-NET-1: not an address of this machine, so nothing is ever bound off loopback here
    assert main(["serve", "--host", "192.0.2.1", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "WARNING" in err and "not loopback" in err and "cannot listen" in err


@pytest.mark.slow  # two processes, one interrupted
def test_ctrl_c_mid_send_exits_130_and_the_journal_resumes(tmp_path):
    path = write_jsonl(tmp_path / "events.jsonl", app_opens(400))
    journal = tmp_path / "j.db"
    with LocalServer(app_keys=[KEY], faults=Faults(latency_ms=10)) as srv:
        env = {**os.environ, "ADROP_APP_KEY": KEY}
        proc = subprocess.Popen([sys.executable, "-m", "adrop_kit", "send", str(path), "--endpoint", srv.endpoint,
                                 "--journal", str(journal), "--concurrency", "2", "--format", "json"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120  # a limit to fail by: a fresh process starts slowly on a loaded machine
        while srv.stats()["good"] < 40 and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        summary = json.loads(out)["summary"]
        assert summary["pending"] > 0 and summary["delivered"] + summary["pending"] + summary["failed"] == 400
        arrived = srv.stats()["good"]
        assert abs(arrived - summary["delivered"]) <= 2  # what the report says arrived, arrived
        resumed = subprocess.run([sys.executable, "-m", "adrop_kit", "send", str(path), "--endpoint", srv.endpoint,
                                  "--journal", str(journal), "--format", "json"], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert resumed.returncode == 0, resumed.stderr
        again = json.loads(resumed.stdout)["summary"]
        assert again["already_delivered"] + again["delivered"] == 400
        assert srv.stats()["good"] - 400 <= 2  # duplicates: at most the events in flight
    assert KEY not in out + err + resumed.stdout + resumed.stderr


@pytest.mark.parametrize("argv,needle", [
    (["serve", "--port", "99999"], "between 0 and 65535"),
    (["serve", "--latency", "-5"], "0 or more"),
    (["serve", "--port", "0", "--db", "/nonexistent/dir/x.db"], "cannot open the event database"),
    (["demo", "--out", "x.txt"], "follows the suffix"),
    (["send", "x.jsonl", "--timeout", "nan"], "finite"),
    (["send", "x.jsonl", "--rate", "0"], "above 0"),
])
def test_bad_settings_are_one_line_errors_with_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


# -- what a new user trips over ---------------------------------------------------------------
def test_a_missing_key_says_which_variable_and_offers_a_dry_run(data, capsys, monkeypatch):
    monkeypatch.delenv("ADROP_APP_KEY")
    code = main(["send", data(GOOD), "--endpoint", "http://127.0.0.1:9/event"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "ADROP_APP_KEY" in err and "--dry-run" in err and "app_key=" not in err


def test_concurrency_0_is_a_usage_error(data, capsys):
    assert main(["send", data(GOOD), "--concurrency", "0", "--dry-run"]) == 2
    assert "1 or more" in capsys.readouterr().err


def test_an_endpoint_without_the_event_path_stops_with_a_hint(adrop_server, data, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    code = main(["send", data(GOOD), "--endpoint", adrop_server.url, "--retries", "0"])
    out = capsys.readouterr().out
    assert code == 3 and "404" in out and "/event" in out and adrop_server.stats()["total"] == 0


def test_a_rerun_with_everything_already_delivered_shows_no_speed(adrop_server, data, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    args = ["send", data(GOOD), "--endpoint", adrop_server.endpoint, "--journal", str(tmp_path / "j.db")]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "already delivered" in out and "events/s" not in out


def test_the_demo_says_how_to_run_the_command_when_it_is_not_on_path(monkeypatch, tmp_path):
    from adrop_kit.cli import net

    exe = tmp_path / ".venv" / "bin" / "adrop-kit"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(exe), "demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert net._how_to_run() == ".venv/bin/adrop-kit"
    monkeypatch.setattr(sys, "argv", ["adrop-kit"])
    assert net._how_to_run() == "adrop-kit"
