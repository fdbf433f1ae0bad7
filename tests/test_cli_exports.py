"""Real exports through the CLI, as a user runs them: metadata columns, delimiters, held-back
warnings, "did you mean", line numbers, JSON values and numbers kept as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adrop_kit.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- --meta-columns ---------------------------------------------------------------------
EXPORT = ("uid,eventName,platform,event_time,ts\n"
          "u1,app_open,web,2026-11-01T10:20:00Z,2026-11-01T10:20:00Z\n"
          "u2,sign_up,ios,2026-11-01T10:21:00Z,2026-11-01T10:21:00Z\n")


def test_an_event_time_column_is_a_w102_per_row_without_meta_columns(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", write(tmp_path / "e.csv", EXPORT), "--format", "json")
    rules = [(v["row"], v["rule"], v["field"]) for v in json.loads(out)["violations"]]
    assert (0, "W102", "event_time") in rules and (1, "W102", "event_time") in rules


@pytest.mark.parametrize("flags", [["--meta-columns", "event_time"], ["--meta-columns", "event_time,other"],
                                   ["--meta-columns", "other", "--meta-columns", "event_time"]])
def test_meta_columns_are_never_checked_and_add_to_ts(capsys, tmp_path, flags):
    code, out, _ = run(capsys, "validate", write(tmp_path / "e.csv", EXPORT), "--format", "json", *flags)
    report = json.loads(out)
    # sign_up without `method` is an E005 either way; no W102 for event_time, none for ts (still metadata)
    assert {(v["rule"], v["field"]) for v in report["violations"]} == {("E005", "method")}
    assert code == 1


def test_meta_columns_are_never_sent(capsys, tmp_path, adrop_server, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    path = write(tmp_path / "e.csv", EXPORT.replace("sign_up,ios", "app_open,ios"))
    code, out, _ = run(capsys, "send", path, "--endpoint", adrop_server.endpoint, "--meta-columns", "event_time",
                       "--no-progress")
    assert code == 0, out
    stored = adrop_server.events("good")
    assert len(stored) == 2
    for e in stored:
        body = json.dumps(e)
        assert "event_time" not in body and "2026-11-01" not in body


def test_meta_columns_rejects_an_empty_name(capsys, tmp_path):
    code, _, err = run(capsys, "validate", write(tmp_path / "e.csv", EXPORT), "--meta-columns", "a,,b")
    assert code == 2 and "column names separated by commas" in err


def test_meta_columns_help_says_it_adds_to_ts(capsys):
    code, out, _ = run(capsys, "send", "--help")
    assert code == 0 and "--meta-columns" in out and "add to the default `ts`" in " ".join(out.split())


# -- delimiters -----------------------------------------------------------------------
ROWS = [["u1", "app_open", "web"], ["u2", "sign_up", "ios", "email"]]


def delimited(sep: str) -> str:
    return sep.join(["uid", "eventName", "platform", "method"]) + "\n" + "".join(sep.join(r) + "\n" for r in ROWS)


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_a_delimited_export_is_read_without_being_told(capsys, tmp_path, sep):
    code, out, _ = run(capsys, "validate", write(tmp_path / "e.csv", delimited(sep)), "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["violations"] == [] and report["summary"]["rows"] == 2
    assert "notes" not in report


@pytest.mark.parametrize("flag", [";", "semicolon"])
def test_delimiter_can_be_given(capsys, tmp_path, flag):
    code, out, _ = run(capsys, "validate", write(tmp_path / "e.csv", delimited(";")), "--delimiter", flag)
    assert code == 0 and "Every row is valid" in out


def test_a_csv_read_as_one_column_says_so_once_naming_delimiter(capsys, tmp_path):
    path = write(tmp_path / "e.csv", delimited(";"))
    code, out, _ = run(capsys, "validate", path, "--delimiter", ",")
    assert code == 1
    assert out.count("--delimiter ';'") == 1 and "one column" in out
    code, out, _ = run(capsys, "validate", path, "--delimiter", ",", "--format", "json")
    notes = json.loads(out)["notes"]
    assert len(notes) == 1 and "semicolons" in notes[0] and str(path) in notes[0]


def test_an_unknown_delimiter_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "validate", write(tmp_path / "e.csv", delimited(";")), "--delimiter", ":")
    assert code == 2 and "delimiter" in err


def test_a_semicolon_export_is_sent_field_by_field(capsys, tmp_path, adrop_server, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    path = write(tmp_path / "e.csv", delimited(";"))
    code, out, _ = run(capsys, "send", path, "--endpoint", adrop_server.endpoint, "--no-progress")
    assert code == 0, out
    assert sorted(e["eventName"] for e in adrop_server.events("good")) == ["app_open", "sign_up"]


def test_python_delimiter_reaches_the_reader(tmp_path):
    import adrop_kit as ak

    path = write(tmp_path / "e.csv", delimited("|"))
    assert ak.validate_events(path).ok
    forced = ak.validate_events(path, delimiter=",")
    assert not forced.ok and len(forced.notes) == 1 and "pipes" in forced.notes[0]


def test_a_tsv_file_is_read_as_tab_separated_even_when_commas_agree_better(capsys, tmp_path):
    # every record holds exactly as many commas as the header: sniffing alone would pick commas
    text = "eventName\tuid\tplatform\tpage_title,x\n" + "app_open\tu1\tweb\tHello, world\n" * 3
    code, out, _ = run(capsys, "validate", write(tmp_path / "e.tsv", text), "--format", "json")
    report = json.loads(out)
    assert report["summary"] == {"rows": 3, "valid": 3, "invalid": 0, "warned": 3}, report
    assert {(v["rule"], v["field"], v["value"]) for v in report["violations"]} == {("W102", "page_title,x",
                                                                                     "Hello, world")}
    code, out, _ = run(capsys, "validate", tmp_path / "e.tsv", "--delimiter", ",", "--format", "json")
    assert json.loads(out)["summary"]["invalid"] == 3  # a delimiter given still wins


def test_an_excel_unicode_text_export_is_read_streamed_and_sent(capsys, tmp_path, adrop_server, monkeypatch):
    # Excel's "Unicode Text": UTF-16 LE with a byte order mark, tabs, CRLF
    rows = "".join(f"app_open\tu{i}\tios\r\n" for i in range(300))
    path = tmp_path / "export.tsv"
    path.write_bytes(b"\xff\xfe" + ("eventName\tuid\tplatform\r\n" + rows).encode("utf-16-le"))
    code, out, _ = run(capsys, "validate", path, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["valid"] == 300
    import adrop_kit as ak

    streamed = ak.validate_events(path, stream=True, batch_bytes=1024)
    assert streamed.ok and streamed.summary()["valid"] == 300
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    code, out, _ = run(capsys, "send", path, "--endpoint", adrop_server.endpoint, "--no-progress", "--no-journal")
    assert code == 0, out
    assert len(adrop_server.events("good", limit=1000)) == 300


# -- positions: `line` beside `row` ---------------------------------------------------------
def test_csv_violations_name_the_line_an_editor_shows(capsys, tmp_path):
    text = ('uid,eventName,method\n'
            'u1,sign_up\n'                      # line 2: E005
            '"u\n2",sign_up,"a\nb"\n'           # lines 3-5, valid
            '\n'                                # line 6: blank, not an event
            'u3,x"y\n'                          # line 7: E001
            'u4,sign_up\n')                     # line 8: E005
    code, out, _ = run(capsys, "validate", write(tmp_path / "e.csv", text), "--format", "json")
    got = [(v["row"], v["line"], v["rule"]) for v in json.loads(out)["violations"]]
    assert got == [(0, 2, "E005"), (3, 7, "E001"), (4, 8, "E005")]
    e001 = json.loads(out)["violations"][1]
    assert e001["message"].startswith("line 7: ")  # the message and the column agree
    code, out, _ = run(capsys, "validate", tmp_path / "e.csv")
    header = next(line for line in out.splitlines() if "eventName" in line and "rule" in line)
    assert header.split()[:3] == ["row", "line", "eventName"]
    assert any(line.split()[:2] == ["4", "8"] for line in out.splitlines())


def test_jsonl_violations_name_the_line_number(capsys, tmp_path):
    path = write(tmp_path / "e.jsonl", '{"uid": "u1", "eventName": "sign_up"}\n\n{"uid": "u2"}\n')
    code, out, _ = run(capsys, "validate", path, "--format", "json")
    assert {(v["row"], v["line"], v["rule"]) for v in json.loads(out)["violations"]} == {
        (0, 1, "E005"), (2, 3, "E003")}


def test_line_is_null_without_a_text_file(capsys, tmp_path):
    import adrop_kit as ak

    report = ak.validate_events([{"uid": "u1", "eventName": "sign_up"}])
    assert report.violations.columns[:4] == ["source", "row", "line", "eventName"]
    assert report.violations.get_column("line").to_list() == [None]
    path = write(tmp_path / "e.json", '[{"uid": "u1", "eventName": "sign_up"}]')
    code, out, _ = run(capsys, "validate", path)
    header = next(line for line in out.splitlines() if "eventName" in line and "rule" in line)
    assert "line" not in header.split()  # no empty column where there are no lines


def test_the_html_report_shows_the_line(tmp_path):
    import adrop_kit as ak

    report = ak.validate_events(write(tmp_path / "e.csv", "uid,eventName\nu1,sign_up\n"))
    page = report._repr_html_()
    assert "<th>line</th>" in page.replace(" ", "") or ">line<" in page


# -- did you mean ----------------------------------------------------------------------------
NEAR_MISSES = [
    {"uid": "u1", "eventName": "Purchase", "tx_id": "t1", "currency": "KRW", "items": [{"item_id": "a"}]},
    {"uid": "u2", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": 1, "prise": 3},
    {"uid": "u3", "eventName": "level_up", "level": 3},
    {"uid": "u4", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": 1, "zzz": 3},
]


def test_near_miss_names_get_a_did_you_mean(capsys, tmp_path):
    path = write(tmp_path / "e.jsonl", "".join(json.dumps(r) + "\n" for r in NEAR_MISSES))
    code, out, _ = run(capsys, "validate", path, "--format", "json")
    messages = {(v["row"], v["rule"]): v["message"] for v in json.loads(out)["violations"]}
    assert messages[0, "W110"] == ("'Purchase' is not in the catalog: did you mean 'purchase'? (a near miss; sent as "
                                   "it is, a custom event)")
    assert messages[1, "W102"] == "'prise' is not a parameter of add_to_cart (did you mean 'price'?)"
    assert "add it to your tracking plan" in messages[2, "W101"] and "did you mean" not in messages[2, "W101"]
    assert messages[3, "W102"] == "'zzz' is not a parameter of add_to_cart"
    code, out, _ = run(capsys, "validate", path, "--strict", "--format", "json")
    strict = {(v["row"], v["rule"]): v["message"] for v in json.loads(out)["violations"]}
    assert strict[0, "W110"].endswith("(did you mean 'purchase'?)") and "strict mode" in strict[0, "W110"]


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("many", [False, True])
def test_one_payload_and_a_dataset_give_the_same_suggestion(strict, many):
    import adrop_kit as ak

    # with many rows the rare keys go to `__more` (its own path); with few, each gets a column
    rows = NEAR_MISSES + [{"uid": f"x{i}", "eventName": "app_open"} for i in range(40 if many else 0)]
    rows.append({"uid": "y", "eventName": "sign_up", "method": "email", "metod": "x"})
    got = {(r, rule, f): m for r, rule, f, m in
           ak.validate_events(rows, strict=strict).violations.select("row", "rule", "field", "message").iter_rows()}
    one = {(i, v.rule.value, v.field): v.message for i, p in enumerate(rows)
           for v in ak.validate_event(p, strict=strict).violations}
    assert got == one
    assert one[len(rows) - 1, "W102", "metod"].endswith("(did you mean 'method'?)")


# -- --format json: values as the JSON values they were ----------------------------------------
def test_json_output_gives_each_value_as_the_json_value_it_was(capsys, tmp_path):
    csv = write(tmp_path / "e.csv",
                'uid,eventName,item_id,price,quantity,currency,tx_id,items\n'
                'u1,add_to_cart,a,"12,900",1,,,\n'                                      # E006: a string
                'u2,add_to_cart,a,-500,1,KRW ,,\n'                                       # W103 -500, W104
                'u3,purchase,,,,KRW,123,"[{""item_id"":""a""}]"\n'
                'u4,purchase,,,,KRW,123,"[{""item_id"":5}]"\n')                          # E008 5, W107 "123"
    code, out, _ = run(capsys, "validate", csv, "--format", "json")
    values = {(v["row"], v["rule"]): v["value"] for v in json.loads(out)["violations"]}
    assert values == {(0, "E006"): "12,900", (1, "W103"): -500, (1, "W104"): "KRW ", (3, "E008"): 5,
                      (3, "W107"): "123"}
    jsonl = write(tmp_path / "e.jsonl", '{"uid": 123, "eventName": "app_open", "platform": {"a": [1]}}\n'
                                        '{"uid": "u", "eventName": "app_open", "level": 12345678901234567890123}\n'
                                        '{"uid": "u", "eventName": "sign_up", "method": null}\n')
    code, out, _ = run(capsys, "validate", jsonl, "--format", "json")
    values = {(v["row"], v["rule"]): v["value"] for v in json.loads(out)["violations"]}
    assert values == {(0, "E002"): 123, (0, "E004"): {"a": [1]}, (1, "W102"): 12345678901234567890123,
                      (2, "E005"): None}


# -- send --hold-warnings ----------------------------------------------------------------------
RISKY = [
    {"uid": "u1", "eventName": "app_open"},
    {"uid": "u2", "eventName": "purchase", "tx_id": "t1", "currency": "KRW", "items": [{"item_id": "a"}]},
    {"uid": "u3", "eventName": "purchase", "tx_id": "t1", "currency": "KRW", "items": [{"item_id": "a"}]},  # W107
    {"uid": "u4", "eventName": "level_up"},                                                                  # W101
    {"uid": "u5", "eventName": "app_open", "currency": "krw"},                                               # W102
]


def _risky(tmp_path: Path) -> Path:
    return write(tmp_path / "backfill.jsonl", "".join(json.dumps(r) + "\n" for r in RISKY))


def test_hold_warnings_keeps_those_rows_back_and_exits_0(capsys, tmp_path, adrop_server, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    path, journal = _risky(tmp_path), tmp_path / "send.journal"
    code, out, _ = run(capsys, "send", path, "--endpoint", adrop_server.endpoint, "--journal", journal,
                       "--hold-warnings", "W101,W107", "--no-progress")
    assert code == 0, out
    assert ("Held back 2 rows with warnings W101, W107; re-run with --hold-warnings none to send them as "
            "they are.") in out
    assert sorted(e["uid_sha256"] != "" and e["eventName"] for e in adrop_server.events("good")) == [
        "app_open", "app_open", "purchase"]
    # the journal did not record the held rows as delivered: a run without the flag sends them
    code, out, _ = run(capsys, "send", path, "--endpoint", adrop_server.endpoint, "--journal", journal,
                       "--format", "json", "--no-progress")
    summary = json.loads(out)["summary"]
    assert code == 0 and (summary["delivered"], summary["already_delivered"], summary["held"]) == (2, 3, 0)
    assert adrop_server.stats()["good"] == 5


def test_hold_warnings_without_ids_holds_every_warning(capsys, tmp_path, adrop_server, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    code, out, _ = run(capsys, "send", _risky(tmp_path), "--endpoint", adrop_server.endpoint, "--hold-warnings",
                       "--format", "json", "--no-progress")
    report = json.loads(out)
    assert code == 0 and report["summary"]["held"] == 3 and report["summary"]["delivered"] == 2
    assert [h["row"] for h in report["held"]] == [2, 3, 4] and {h["outcome"] for h in report["held"]} == {"held"}


@pytest.mark.parametrize(("ids", "says"), [("W999", "not a rule id"), ("E005", "error rule"), ("W101,", "not a rule")])
def test_hold_warnings_refuses_an_unknown_rule_id(capsys, tmp_path, ids, says):
    code, _, err = run(capsys, "send", _risky(tmp_path), "--dry-run", "--hold-warnings", ids)
    assert code == 2 and says in err and "W101" in err


def test_python_sender_hold_warnings(tmp_path, adrop_server):
    from adrop_kit import Sender

    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, hold_warnings=["W107"], progress=False) as s:
        report = s.send_all(RISKY)
        assert (report.delivered, report.held, report.ok) == (4, 1, True)
    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, hold_warnings=True, progress=False) as s:
        held = s.send(RISKY[3])
        assert held.outcome == "held" and "W101" in held.error and s.send(RISKY[0]).outcome == "delivered"
    with pytest.raises(ValueError, match="W102"):
        Sender(adrop_server.app_key, hold_warnings="W12")


# -- numbers as written: CSV → server ----------------------------------------------------------
NUMBERS_CSV = ("uid,eventName,item_id,price,quantity,value,currency\n"
               "n1,add_to_cart,a,15900,1,15900,KRW\n"
               "n2,add_to_cart,a,2.5,3,7.5,KRW\n"
               "n3,add_to_cart,a,29900,1,29900.0,KRW\n"
               "n4,add_to_cart,a,-500,2,-1000,KRW\n"
               "n5,add_to_cart,a,0,1,0,KRW\n"
               "n6,add_to_cart,a,15900.0,1,15900.0,KRW\n"
               "n7,add_to_cart,a,-0.0,1,-0.0,KRW\n"
               "n8,add_to_cart,a,12345678901234567890123,1,12345678901234567890123,KRW\n")


def test_csv_numbers_reach_the_server_as_written(tmp_path, adrop_server):
    import math

    from adrop_kit import Sender
    from adrop_kit.server import hash_uid

    path = write(tmp_path / "numbers.csv", NUMBERS_CSV)
    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, progress=False) as sender:
        report = sender.send_all(path)
    assert report.delivered == 8, report.problems()
    stored = {e["uid_sha256"]: e["payload"] for e in adrop_server.events("good", limit=100)}
    header, *lines = NUMBERS_CSV.splitlines()
    names = header.split(",")
    for line in lines:
        cells = dict(zip(names, line.split(","), strict=True))
        body = stored[hash_uid(cells["uid"])]
        for key in ("price", "quantity", "value"):
            written = json.loads(cells[key])  # the JSON number the cell's text is: 15900 an int, 15900.0 a float
            assert type(body[key]) is type(written) and body[key] == written, (line, key, body[key])
            if isinstance(written, float):
                assert math.copysign(1, body[key]) == math.copysign(1, written)


def test_csv_numbers_are_shown_as_written(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", write(tmp_path / "numbers.csv", NUMBERS_CSV), "--format", "json")
    values = {(v["row"], v["rule"], v["field"]): v["value"] for v in json.loads(out)["violations"]}
    assert values[3, "W103", "price"] == -500 and values[3, "W103", "value"] == -1000
    code, out, _ = run(capsys, "validate", tmp_path / "numbers.csv")
    row = [line.split() for line in out.splitlines() if line.split()[:1] == ["3"]]
    assert ["-500" in r for r in row] and not any("-500.0" in r or "-1000.0" in r for r in row)


# -- reports in notebooks: words, readable sources ------------------------------------------------
def test_send_report_html_uses_words_and_never_a_zero_rate(tmp_path, adrop_server):
    from adrop_kit import Sender

    rows = [{"uid": f"u{i}", "eventName": "app_open"} for i in range(3)]
    journal = tmp_path / "j.sqlite"
    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, progress=False) as sender:
        first = sender.send_all(rows)
        again = sender.send_all(rows)  # all already delivered: nothing went over the network
    page = first._repr_html_()
    for raw in ("elapsed_s", "events_per_s", "longest_wait_s", "dry_run", "already_delivered", "<records>"):
        assert raw not in page
    assert "took" in page and "events per second" in page and "a list of 3 events" in page
    page = again._repr_html_()
    assert "already delivered" in page and "events per second" not in page and "0.0 events" not in page


def test_dataset_reports_name_a_frame_as_the_widgets_do():
    import polars as pl

    import adrop_kit as ak
    from adrop_kit.widgets._display import source_label

    report = ak.validate_events(pl.DataFrame({"uid": ["u1", "u2"], "eventName": ["app_open", "app_open"]}))
    assert "a polars DataFrame of 2 rows" in report._repr_html_() and "&lt;polars" not in report._repr_html_()
    assert "a polars DataFrame of 2 rows" in repr(report)
    assert source_label(report.source, report.rows) == "a polars DataFrame of 2 rows"
