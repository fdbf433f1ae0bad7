"""The widgets, headless: build a view, set values, click buttons, read what it shows.

No browser and no kernel: ipywidgets models work in plain Python. What a user sees is the
`.value` of HTML widgets and the outputs of Output widgets, so that is what these tests read.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
import threading
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import ipywidgets  # noqa: E402
from ipywidgets.embed import dependency_state, embed_data  # noqa: E402

from adrop_kit import STANDARD, validate_event, validate_events  # noqa: E402
from adrop_kit.explore.synth import sample_frame  # noqa: E402
from adrop_kit.send.transport import KEY_ENV, mask_key  # noqa: E402
from adrop_kit.server import Faults, LocalServer  # noqa: E402
from adrop_kit.widgets import DatasetValidator, EventComposer, FuzzLab, SendPanel  # noqa: E402
from adrop_kit.widgets import _logic as logic  # noqa: E402

SECRET = "sk-live-0123456789abcdefSECRET"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def server():
    with LocalServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server, monkeypatch):
    server.reset()
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return sample_frame(2000, seed=1)


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def column(html: str, name: str) -> list[str]:
    """The cells of one column of the first HTML table in `html`."""
    header = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", html)
    i = header.index(name)
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("</thead>", 1)[1].split("</tbody>", 1)[0])
    return [re.findall(r"<td[^>]*>(.*?)</td>", r)[i] for r in rows]


# -- the logic, without widgets ---------------------------------------------------------------
def test_every_event_gets_one_input_per_parameter_with_required_ones_marked():
    for spec in STANDARD:
        fields = logic.form_fields(spec)
        assert [f.name for f in fields] == ["uid", "platform", *(p.name for p in spec.params)]
        marked = {f.name for f in fields if f.label.endswith("*")}
        assert marked == {"uid", *(p.name for p in spec.params if p.required)}


def test_the_example_of_every_event_is_valid_without_warnings():
    for spec in STANDARD:
        fields = logic.form_fields(spec)
        payload, notes = logic.payload_from_form(spec.name, logic.example_values(spec), fields)
        assert not notes
        assert validate_event(payload).violations == [], spec.name


def test_an_empty_input_means_absent_and_numbers_that_are_not_numbers_stay_text():
    fields = logic.form_fields(STANDARD["add_to_cart"])
    values = {"uid": "u1", "platform": logic.ABSENT, "item_id": "", "price": "12.5", "quantity": "two"}
    payload, _ = logic.payload_from_form("add_to_cart", values, fields)
    assert payload == {"uid": "u1", "eventName": "add_to_cart", "price": 12.5, "quantity": "two"}
    assert validate_event(payload).rules == {"E005", "E006"}
    assert logic.parse_number(" 3 ", "integer") == 3 and logic.parse_number("nan", "number") == "nan"


def test_tables_are_the_packages_one_renderer_with_cells_cut_to_fit():
    from adrop_kit.support.html import html_table

    rows = [(1, None, {"a": "<b>"}), (2, "x" * 300, [1, 2])]
    out = logic.table_html(rows, ("n", "text", "json"), "adrop-table adrop-x")
    assert out == html_table([(1, None, '{"a": "<b>"}'), (2, "x" * 119 + "…", "[1, 2]")], ("n", "text", "json"),
                             cls="adrop-table adrop-x")
    assert "class='adrop-table adrop-x'" in out and "&lt;b&gt;" in out and "<b>" not in out
    blanks = logic.table_html([("KRW ", "", " x", "a\tb", None)], "abcde")  # shown as the CLI's clip shows them
    assert column(blanks, "a") == [html.escape("'KRW '")] and column(blanks, "b") == [html.escape("''")]
    assert column(blanks, "c") == [html.escape("' x'")] and column(blanks, "d") == ["a\\tb"]
    assert column(blanks, "e") == [""]


# -- EventComposer ---------------------------------------------------------------------------------
def test_composer_shows_e005_until_the_required_field_is_filled():
    c = EventComposer(event="sign_up")
    assert "E005" in c.verdict.value and "method" in c.verdict.value
    c.fields["method"].value = "google"
    assert "E005" not in c.verdict.value and "valid" in c.verdict.value
    assert json.loads(text_of(c.preview.value).replace("&quot;", '"')) == {
        "uid": "user-1", "eventName": "sign_up", "method": "google"}
    c.close()


def test_composer_rebuilds_its_form_from_the_catalog_when_the_event_changes():
    c = EventComposer()
    c.event.value = "purchase"
    assert set(c.fields) == {"uid", "platform", "tx_id", "currency", "items"}
    assert c.fields["tx_id"].description == "tx_id *"
    assert {"E005", "E007"} <= set(re.findall(r"[EW]\d{3}", c.verdict.value))
    c.fields["items"].value = "[{not json"
    assert "not valid JSON" in c.verdict.value
    c.example_button.click()
    assert "✓ valid" in c.verdict.value and c.report.violations == []
    c.fields["platform"].value = "(absent)"
    assert "platform" not in c.payload
    c.close()


def test_composer_dry_run_shows_the_request_with_the_key_masked_and_sends_nothing(server):
    c = EventComposer(endpoint=server.endpoint, app_key=server.app_key, event="sign_up")
    c.fields["method"].value = "email"
    assert c.dry_run.value is True  # the default
    c.send_button.click()
    assert c.last_result.outcome == "dry_run"
    assert f"Authorization: {mask_key(server.app_key)}" in c.reply.value
    assert server.app_key not in c.reply.value
    assert server.stats()["total"] == 0
    c.close()


def test_composer_real_send_to_the_embedded_local_server_stores_one_event():
    c = EventComposer(event="sign_up")
    c.fields["method"].value = "email"
    c.dry_run.value = False
    c.send_button.click()
    assert c.last_result.outcome == "delivered" and "HTTP 200" in c.reply.value
    assert c.target.server.stats() == {"total": 1, "good": 1, "bad": 0}
    (stored,) = c.target.server.events("good")
    assert stored["payload"]["method"] == "email"
    srv = c.target.server
    c.close()
    assert c.target.server is None and srv._closed  # the view closes the server it started


def test_composer_without_local_validation_shows_the_servers_rejection(server):
    c = EventComposer(endpoint=server.endpoint, app_key=server.app_key, event="sign_up")
    c.dry_run.value = False
    c.send_button.click()  # validated first: skipped, never sent
    assert c.last_result.outcome == "skipped" and server.stats()["total"] == 0
    c.validate_first.value = False
    c.send_button.click()
    assert c.last_result.outcome == "rejected" and "400" in c.reply.value
    assert server.stats() == {"total": 1, "good": 0, "bad": 1}
    c.close()


# -- DatasetValidator --------------------------------------------------------------------------------
def test_validator_summary_matches_validate_events(frame):
    expected = validate_events(frame).summary()
    v = DatasetValidator(frame)
    assert v.report.summary() == expected
    cards = text_of(v.summary.value)
    for name, value in expected.items():
        assert re.search(rf"{value:,}\s+{name}", cards), (name, value)
    assert "adrop-summary" in v.summary.value
    v.close()


def test_validator_filters_failures_by_rule_and_by_event(frame):
    v = DatasetValidator(frame)
    rules = v.rule.options[1:]
    assert set(rules) == set(v.report.violations["rule"].to_list()) and len(rules) > 3
    v.limit.value = 500
    for rule in rules:
        v.rule.value = rule
        shown = column(v.failures.value, "rule")
        assert shown and set(shown) == {rule}
        assert v.filtered().height == v.report.violations.filter(pl.col("rule") == rule).height
    v.rule.value = "(all)"
    event = "add_to_cart"
    assert event in v.event.options
    v.event.value = event
    assert set(column(v.failures.value, "eventName")) == {event}
    v.rule.value = v.rule.options[1]
    assert set(column(v.failures.value, "rule")) <= {v.rule.options[1]}
    assert v.filtered().height == v.report.violations.filter(
        (pl.col("rule") == v.rule.options[1]) & (pl.col("eventName") == event)).height
    v.close()


def test_validator_draws_failures_by_rule_and_offers_both_csvs(frame, tmp_path):
    v = DatasetValidator(frame)
    (out,) = v.chart.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    links = dict(re.findall(r"download='([^']+)' href='data:text/csv;base64,([^']+)'", v.downloads.value))
    failures = pl.read_csv(io.BytesIO(base64.b64decode(links["failures.csv"])))
    clean = pl.read_csv(io.BytesIO(base64.b64decode(links["clean_rows.csv"])), infer_schema=False)
    assert failures.height == v.report.violations.height
    assert clean.height == v.report.valid and clean.columns == v.report.valid_rows.columns  # the user's own
    assert not [c for c in clean.columns if c.startswith("__")]
    csv = tmp_path / "clean.csv"
    csv.write_bytes(base64.b64decode(links["clean_rows.csv"]))
    assert validate_events(csv).invalid == 0  # the clean rows read back as they were: still valid
    v.folder.value = str(tmp_path / "out")
    v.save_button.click()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clean_rows.csv", "failures.csv"]
    assert str(tmp_path / "out") in v.saved.value
    v.close()


def test_validator_table_shows_line_for_a_text_file_and_no_source_column_for_one_file(tmp_path):
    from adrop_kit.explore.synth import write_sample

    path = write_sample(tmp_path / "events.jsonl", 300, seed=4)
    v = DatasetValidator()
    v.path.value = str(path)
    v.path_button.click()
    head = v.failures.value.split("</tr>")[0]
    assert ">line<" in head and ">row<" in head and ">source<" not in head
    v.close()


def test_validator_reads_an_uploaded_file_and_keeps_no_copy_in_widget_state(tmp_path):
    from adrop_kit.explore.synth import write_sample

    path = write_sample(tmp_path / "events.csv", 300, seed=4)
    v = DatasetValidator()
    assert v.report is None
    content = path.read_bytes()
    v.upload.value = ({"name": "mine.csv", "type": "text/csv", "size": len(content), "content": memoryview(content),
                       "last_modified": dt.datetime.now(dt.UTC)},)
    assert v.report is not None and v.report.summary() == validate_events(path).summary()
    assert v.report.source == "mine.csv" and "mine.csv" in v.summary.value
    assert v.upload.value == ()
    copy = v._tmp
    assert copy.suffix == ".csv" and copy.read_bytes() == content
    v.path.value = str(tmp_path / "missing.jsonl")
    v.path_button.click()
    assert "cannot read" in v.status.value
    v.close()
    assert not copy.exists()  # the temporary copy goes with the view


def test_validator_shows_blanks_in_values_as_the_cli_does():
    rows = [{"uid": "u1", "eventName": "purchase", "tx_id": "t1", "currency": "KRW ", "items": [{"item_id": "a"}]},
            {"uid": "u2", "eventName": "purchase", "tx_id": "t2", "currency": "", "items": [{"item_id": "a"}]}]
    v = DatasetValidator(rows)
    values = [html.unescape(c) for c in column(v.failures.value, "value")]
    messages = column(v.failures.value, "message")
    assert values == ["'KRW '", "''"]  # not `KRW` beside "should be three upper-case letters"
    assert all("three upper-case letters" in m for m in messages)
    v.close()


def test_validator_says_where_a_relative_path_resolved_and_where_it_looked(tmp_path, monkeypatch):
    from adrop_kit.explore.synth import write_sample

    monkeypatch.chdir(tmp_path)  # the kernel's working directory (in a notebook: the notebook's folder)
    write_sample(tmp_path / "events.jsonl", 200, seed=4)
    v = DatasetValidator()
    v.path.value = "events.jsonl"
    v.path_button.click()
    assert v.report is not None and v.report.rows == 200
    status = html.unescape(text_of(v.status.value))
    assert f"resolved to {tmp_path / 'events.jsonl'}" in status and str(tmp_path) in status
    assert v.summary.value and v.failures.value and v.chart.outputs and v.downloads.value
    v.path.value = "missing.jsonl"
    v.path_button.click()
    status = html.unescape(text_of(v.status.value))
    assert f"no file at {tmp_path / 'missing.jsonl'}" in status
    assert f"the kernel's working directory, {tmp_path}" in status
    # the previous report is gone: nothing on screen belongs to another file
    assert v.report is None and v.summary.value == v.failures.value == v.downloads.value == ""
    assert v.chart.outputs == () and v.rule.options == ("(all)",) and v.event.options == ("(all)",)
    v.save_button.click()
    assert "nothing validated yet" in v.saved.value
    v.close()


def test_the_summary_names_the_data_plainly_and_says_its_status_in_words(frame):
    pd = pytest.importorskip("pandas")

    v = DatasetValidator(frame)
    title = text_of(v.summary.value)
    assert f"a polars DataFrame of {frame.height:,} rows" in title and "<polars" not in v.summary.value
    assert "invalid rows" in title and "color:#b00020'>invalid rows" in v.summary.value
    assert not re.search(r"[\u2700-\u27bf\U0001F000-\U0001FFFF]", v.summary.value)  # no emoji, no dingbats
    v.validate(pd.DataFrame({"uid": ["u1", "u2"], "eventName": ["app_open", "app_open"]}))
    assert "a pandas DataFrame of 2 rows" in text_of(v.summary.value)
    assert "color:#1b7f3b'>all valid" in v.summary.value and "invalid rows" not in v.summary.value
    v.validate([{"uid": "u1", "eventName": "app_open"}])
    assert "a list of 1 event " in text_of(v.summary.value)
    v.close()


# -- SendPanel -----------------------------------------------------------------------------------------
def cards(view_html: str) -> dict[str, str]:
    """The cards of a `cards_html` block: label -> the number (or text) shown above it."""
    return {html.unescape(label): html.unescape(value) for value, label in re.findall(
        r"<div style='font-size:1.3em;font-weight:600'>(.*?)</div><div[^>]*>(.*?)</div>", view_html)}


def test_send_panel_dry_run_then_real_send_to_a_local_server(server):
    data = sample_frame(300, seed=2)
    expected = validate_events(data)
    p = SendPanel(data, endpoint=server.endpoint, app_key=server.app_key)
    p.dry_run_button.click()
    assert p.report.dry_run and p.report.count("dry_run") == expected.valid
    assert p.report.skipped == expected.invalid
    assert server.stats()["total"] == 0
    assert f"Authorization: {mask_key(server.app_key)}" in p.requests.value
    # the full bar says nothing was sent, and so does the title; the cards use words, not summary keys
    assert p.progress.value == p.progress.max and p.progress.description == "dry run — nothing sent"
    assert "dry run — nothing sent" in text_of(p.counts.value) and "sent</b> to" not in p.counts.value
    shown = cards(p.counts.value)
    assert shown["would send"] == f"{expected.valid:,}" and shown["skipped"] == f"{expected.invalid:,}"
    assert "elapsed" in shown and "events/s" not in shown  # nothing went over the network
    assert not {"dry_run", "elapsed_s", "events_per_s", "delivered"} & set(shown)
    p.concurrency.value = 4
    p.send_button.click()
    assert p.report.delivered == expected.valid == server.stats()["good"]
    assert (p.progress.value, p.progress.max) == (expected.valid, expected.valid)
    assert p.progress.description == "sent" and p.progress.bar_style == "success"
    shown = cards(p.counts.value)
    assert shown["delivered"] == f"{expected.valid:,}" and float(shown["events/s"].replace(",", "")) > 0
    assert shown["elapsed"].endswith(" s") and "would send" not in shown
    assert set(column(p.results.value, "outcome")) == {"skipped"}  # the problems table comes first
    p.close()


def test_send_panel_has_one_dry_run_button_and_one_send_button():
    p = SendPanel(sample_frame(20, seed=2))
    controls = list(_walk(p.widget))
    assert not [c for c in controls if isinstance(c, ipywidgets.ToggleButton)]  # no mode switch beside a button
    buttons = [c.description for c in controls if isinstance(c, ipywidgets.Button)]
    assert buttons == ["Dry run", "Send", "Forget sent rows"]
    assert p.send_button.button_style == "primary" and p.forget_button.disabled  # nothing to forget yet
    assert "nothing is sent" in p.dry_run_button.tooltip
    p.close()


def test_pressing_send_twice_sends_nothing_twice_and_says_so(server):
    data = sample_frame(300, seed=2)
    expected = validate_events(data)
    p = SendPanel(data, endpoint=server.endpoint, app_key=server.app_key)
    p.send_button.click()
    assert server.stats()["good"] == expected.valid and p.note.value == ""
    p.send_button.click()  # as a user would, to be sure
    assert server.stats()["good"] == expected.valid  # nothing delivered twice
    assert p.report.delivered == 0 and p.report.already_delivered == expected.valid
    note = text_of(p.note.value)
    assert f"{expected.valid:,} row(s) already delivered by an earlier Send were not sent again" in note
    assert "Forget sent rows" in note and not p.forget_button.disabled
    shown = cards(p.counts.value)
    assert shown["already delivered"] == f"{expected.valid:,}" and shown["delivered"] == "0"
    assert "events/s" not in shown  # not "0.0 events/s": nothing was sent
    assert p.progress.description == "nothing sent" and "nothing sent</b> to" in p.counts.value
    p.dry_run_button.click()  # a dry run now says what Send would skip
    assert f"{expected.valid:,} of these row(s) were already delivered" in text_of(p.note.value)
    shown = cards(p.counts.value)
    assert shown["would send"] == "0" and shown["already delivered"] == f"{expected.valid:,}"
    assert server.stats()["good"] == expected.valid

    with LocalServer() as other:  # what one endpoint got says nothing about another
        p.endpoint.value = other.endpoint
        p.target.set_key(other.app_key)
        p.send_button.click()
        assert p.report.delivered == expected.valid == other.stats()["good"]
    p.endpoint.value = server.endpoint
    p.target.set_key(server.app_key)
    p.forget_button.click()  # on purpose: send them again
    assert "forgotten" in p.note.value and p.forget_button.disabled
    p.send_button.click()
    assert p.report.delivered == expected.valid and server.stats()["good"] == 2 * expected.valid
    p.close()


def test_send_panel_with_a_journal_file_skips_what_an_earlier_panel_delivered(server, tmp_path):
    data = sample_frame(100, seed=2)
    expected = validate_events(data)
    journal = tmp_path / "send.journal"
    first = SendPanel(data, endpoint=server.endpoint, app_key=server.app_key, journal=journal)
    first.send_button.click()
    first.close()
    second = SendPanel(data, endpoint=server.endpoint, app_key=server.app_key, journal=journal)  # a new session
    assert second.forget_button.layout.display == "none"  # the file is the user's: not cleared from here
    second.send_button.click()
    assert second.report.already_delivered == expected.valid == server.stats()["good"]
    assert str(journal) in second.note.value
    second.close()


def test_send_panel_on_a_streamed_export_says_what_a_dry_run_would_skip(server, tmp_path):
    """A directory is sent streamed: its report lists only the problem rows, yet the panel still
    knows which rows a dry run would skip (from the outcome hook) and says the rest were counted."""
    root = tmp_path / "export"
    for k in range(2):
        (root / f"part-{k:05d}.jsonl").parent.mkdir(parents=True, exist_ok=True)
        (root / f"part-{k:05d}.jsonl").write_text("".join(
            json.dumps({"uid": f"u{k}-{i}", "eventName": "app_open"}) + "\n" for i in range(15)))
    p = SendPanel(str(root), endpoint=server.endpoint, app_key=server.app_key)
    p.send_button.click()
    assert p.report.delivered == 30 and p.report.outcomes == []
    assert "delivered rows are counted, not listed" in text_of(p.results.value)
    p.dry_run_button.click()
    assert "30 of these row(s) were already delivered" in text_of(p.note.value)
    assert cards(p.counts.value)["would send"] == "0"
    p.close()


def test_send_panel_counts_arrive_live_through_the_senders_outcome_hook():
    data = sample_frame(300, seed=2)
    expected = validate_events(data)
    with LocalServer(faults=Faults(latency_ms=3)) as slow:  # slow enough for several redraws
        p = SendPanel(data, endpoint=slow.endpoint, app_key=slow.app_key)
        p.concurrency.value = 2
        main = threading.current_thread()
        progress, cards = [], []
        p.progress.observe(lambda ch: progress.append((ch["new"], threading.current_thread())), names="value")
        p.counts.observe(lambda ch: cards.append((text_of(ch["new"]), threading.current_thread())), names="value")
        p.send_button.click()
        assert p.report.delivered == expected.valid == slow.stats()["good"]
        live = [v for v, thread in progress if thread is not main]  # drawn by the sender's workers, as it sends
        assert live == sorted(live) and live[-1] == expected.valid
        assert any(0 < v < expected.valid for v in live)
        live_cards = [text for text, thread in cards if thread is not main]
        assert re.search(rf"{expected.valid:,}\s+delivered", live_cards[-1])
        assert re.search(rf"{expected.invalid:,}\s+skipped", live_cards[-1])
        p.close()


def test_send_panel_takes_a_path_and_an_empty_endpoint_means_the_embedded_server(tmp_path):
    from adrop_kit.explore.synth import write_sample

    path = write_sample(tmp_path / "e.jsonl", 100, seed=5)
    p = SendPanel()
    p.send_button.click()
    assert "path first" in p.results.value
    p.source.value = str(path)
    p.send_button.click()
    assert p.report.delivered == validate_events(path).valid == p.target.server.stats()["good"]
    p.close()


# -- FuzzLab ---------------------------------------------------------------------------------------------
def bodies(results) -> list[str]:
    return [r.body for r in results]


def test_fuzz_lab_draws_what_it_sends_and_the_local_server_agrees_with_every_verdict():
    f = FuzzLab()
    f.events.value = ("sign_up", "purchase")
    f.n.value = 25
    f.draw_button.click()
    drawn = f.cases
    assert drawn and {c.event for c in drawn} == {"sign_up", "purchase"}
    assert f.target.server is None  # drawing contacts no endpoint: not even the embedded one is started
    shown = [html.escape(c.body if len(c.body) <= 120 else c.body[:119] + "…") for c in drawn]
    assert column(f.table.value, "payload") == shown  # the JSON text exactly as sent, cut to fit
    for case in drawn:  # each invalid payload breaks its rule; the expected verdict is validate_event's
        report = validate_event(case.payload)
        assert case.rule in report.rules if case.rule else report.violations == []
        assert case.expected == ("accepted" if report.ok else "rejected")
    f.send_button.click()
    report = f.report
    assert report.seed == f.drawn_seed
    assert bodies(report.results) == bodies(drawn)  # "Send" sends what "Draw" showed
    assert f"all {len(drawn)} verdicts agree" in f.verdicts.value and not report.disagreements
    assert f.target.server.stats()["total"] == len(drawn)
    assert (f.progress.value, f.progress.max) == (len(drawn), len(drawn))
    f.close()


def test_fuzz_lab_draws_with_a_fresh_seed_each_time_and_a_typed_seed_draws_the_same_again():
    f = FuzzLab(events=("purchase",))
    assert f.seed.value == "" and "random" in f.seed.placeholder
    f.draw_button.click()
    first, first_seed = bodies(f.cases), f.drawn_seed
    assert f"seed {first_seed}" in f.table.value and "type it into “seed”" in f.table.value
    f.draw_button.click()
    assert f.drawn_seed != first_seed and bodies(f.cases) != first  # not the same payloads every time
    f.seed.value = str(first_seed)  # reproduce the first draw
    f.draw_button.click()
    assert f.drawn_seed == first_seed and bodies(f.cases) == first
    f.send_button.click()
    assert bodies(f.report.results) == first and f"seed {first_seed}" in f.verdicts.value
    f.seed.value = "twelve"
    f.draw_button.click()
    assert "seed must be a whole number" in f.table.value and f.cases == []
    f.close()


def test_fuzz_lab_notes_when_a_payloads_event_name_is_not_its_rows_event():
    f = FuzzLab(events=("purchase",), rules=("W101", "E003", "E001"))
    f.n.value = 60
    f.draw_button.click()
    assert {c.rule for c in f.cases} == {None, "W101", "E003", "E001"}
    notes = dict(zip(bodies(f.cases), (html.unescape(n) for n in column(f.table.value, "note")), strict=True))
    for case in f.cases:
        note = notes[case.body]
        if case.rule is None:
            assert note == ""  # a valid purchase is what its row says
        elif case.rule == "W101":  # "purchase, breaking W101" and a payload named level_up: said so
            name = case.payload["eventName"]
            quoted = repr(name) if name != name.strip() else name  # 'purchase ': the blank shown
            assert name != "purchase" and note == f"eventName replaced by a name outside the catalog, {quoted}"
        elif case.rule == "E003":
            assert note.startswith("eventName removed") or note.startswith("eventName replaced by"), note
        else:
            assert note.endswith("not a JSON object"), note
    f.send_button.click()  # the verdicts table says it too
    assert "eventName replaced by a name outside the catalog" in html.unescape(f.verdicts.value)
    f.close()


def test_mutation_notes_are_derived_from_the_payload():
    from adrop_kit.widgets._display import mutation_note

    assert mutation_note("purchase", {"eventName": "purchase"}, STANDARD) == ""
    assert mutation_note("purchase", {"eventName": "level_up"}, STANDARD) == (
        "eventName replaced by a name outside the catalog, level_up")
    assert mutation_note("purchase", {"eventName": "purchase "}, STANDARD).endswith("catalog, 'purchase '")
    assert mutation_note("purchase", {"eventName": "sign_up"}, STANDARD) == (
        "eventName replaced by another event of the catalog, sign_up")
    assert mutation_note("purchase", {"uid": "u"}, STANDARD) == "eventName removed"
    assert mutation_note("purchase", {"eventName": 7}, STANDARD) == "eventName replaced by 7 (not a string)"
    assert mutation_note("purchase", {"eventName": ""}, STANDARD) == "eventName replaced by a blank name, ''"
    assert mutation_note("purchase", [{"eventName": "purchase"}]) == "the body is a JSON array, not a JSON object"


def test_fuzz_lab_reports_disagreements_with_a_stricter_server():
    with LocalServer(strict=True) as strict_server:
        f = FuzzLab(endpoint=strict_server.endpoint, app_key=strict_server.app_key, events=("click",))
        f.valid.value = False
        f.n.value = 60
        f.send_button.click()
        report = f.report
        disagree = [r for r in report.results if not r.agreed]
        assert disagree and "W101" in {r.rule for r in disagree} <= {"W101", "W110"}  # W110: a near miss
        assert all((r.expected, r.observed) == ("accepted", "rejected") for r in disagree)
        assert {(d.event, d.rule) for d in report.disagreements} == {("click", "W101"), ("click", "W110")}
        assert f"{len(disagree)} of {len(report.results)} verdicts disagree" in f.verdicts.value
        assert set(column(f.verdicts.value, "agree")[:len(disagree)]) == {"✗ disagree"}  # disagreements first
        assert mask_key(strict_server.app_key) in f.verdicts.value  # the curl of each disagreement
        assert strict_server.app_key not in f.verdicts.value
        f.strict.value = True  # W101 is an error locally too: the two now agree
        f.send_button.click()
        assert f.report.results and not f.report.disagreements and "verdicts agree" in f.verdicts.value
        f.close()


def test_fuzz_lab_agrees_with_the_same_rules_server_on_payloads_with_nan():
    """Regression: the expected verdict was once computed on a NaN->null round trip the sender never
    makes, so a NaN the server rightly rejects looked like a disagreement (purchase E008, add_to_cart E006)."""
    f = FuzzLab(events=("purchase", "add_to_cart"), rules=("E006", "E008"))
    f.valid.value = False
    f.n.value = 60
    f.seed.value = "0"  # a seed known to draw NaN
    f.send_button.click()
    report = f.report
    nan = [r for r in report.results if "NaN" in r.body]
    assert nan, "no payload with NaN drawn: choose another seed"
    assert all(r.expected == r.observed == "rejected" for r in nan)
    assert report.ok and not report.disagreements
    assert f"all {len(report.results)} verdicts agree" in f.verdicts.value
    f.close()


def test_fuzz_lab_contract_test_finds_the_stricter_servers_rule():
    with LocalServer(strict=True) as strict_server:
        f = FuzzLab(endpoint=strict_server.endpoint, app_key=strict_server.app_key, events=("click",))
        f.n.value = 30
        f.contract_button.click()
        report = f.contract_report
        assert report is not None, f.contract.value
        assert {d.rule for d in report.disagreements} <= {"W101", "W110"} and "W101" in f.contract.value
        assert report.disagreements[0].shrunk
        assert strict_server.app_key not in f.contract.value
        f.close()


def test_fuzz_lab_shows_bad_settings_instead_of_raising():
    f = FuzzLab(events=("app_open",), rules=("E005",))  # app_open has no required parameter
    f.draw_button.click()
    assert "E005" in f.table.value and f.cases == []
    f.rules.value = ()
    f.valid.value = f.invalid.value = False
    f.send_button.click()
    assert "nothing to send" in f.verdicts.value and f.report is None
    f.close()


def test_notebook_03s_fuzz_lab_shows_the_w101_disagreements_its_text_promises():
    """The notebook's FuzzLab cell, run as the notebook runs it, then Draw + Send drawn pressed again."""
    jupytext = pytest.importorskip("jupytext")
    cells = [(c.cell_type, c.source) for c in jupytext.read(NOTEBOOKS / "03_contract.py").cells]
    code = [src for kind, src in cells if kind == "code"]
    at = next(i for i, (kind, src) in enumerate(cells) if kind == "code" and "FuzzLab(" in src)
    promise = cells[at - 1][1]
    assert "W101" in promise and "disagreements" in promise and "Send drawn" in promise
    namespace: dict = {}
    exec(code[0], namespace)  # the imports
    exec(next(src for src in code if "stricter = LocalServer(strict=True)" in src), namespace)
    try:
        exec(cells[at][1], namespace)
        lab = namespace["lab"]
        for _ in range(2):  # as the cell left it, then as a user presses the buttons (a fresh seed)
            disagree = [r for r in lab.report.results if not r.agreed]
            assert disagree and "W101" in {r.rule for r in disagree} <= {"W101", "W110"}  # W110: a near miss
            assert {r.event for r in disagree} == {"click", "sign_up", "purchase"}
            assert f"{len(disagree)} of {len(lab.report.results)} verdicts disagree" in lab.verdicts.value
            assert set(column(lab.verdicts.value, "agree")[:len(disagree)]) == {"✗ disagree"}
            notes = column(lab.verdicts.value, "note")[:len(disagree)]
            assert all("eventName replaced by a name outside the catalog" in n for n in notes)
            lab.draw_button.click()
            lab.send_button.click()
        lab.strict.value = True  # "Tick strict and press Send drawn again"
        lab.send_button.click()
        assert lab.report.results and not lab.report.disagreements and "verdicts agree" in lab.verdicts.value
        lab.close()
    finally:
        namespace["stricter"].close()


# -- the app key ----------------------------------------------------------------------------------------------
def _all_state(view) -> str:
    """Every widget state under the view, and the whole widget registry as a notebook would embed it."""
    dump = lambda obj: json.dumps(obj, default=str, ensure_ascii=False)  # noqa: E731
    tree = dump(dependency_state([view.widget], drop_defaults=False))
    registry = dump(embed_data(views=[view.widget], drop_defaults=False))
    outputs = dump([getattr(w, "outputs", ()) for w in _walk(view.widget)])
    return tree + registry + outputs


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_the_key_never_reaches_widget_state(monkeypatch, frame, server):
    monkeypatch.setenv(KEY_ENV, SECRET)
    remote = "https://example.invalid/event"
    views = [EventComposer(endpoint=remote, event="sign_up"), SendPanel(frame.head(50), endpoint=remote),
             FuzzLab(endpoint=remote)]
    composer, panel, _ = views
    composer.fields["method"].value = "email"
    composer.send_button.click()  # dry run
    panel.dry_run_button.click()
    assert SECRET not in composer.reply.value and mask_key(SECRET) in composer.reply.value
    assert mask_key(SECRET) in panel.requests.value

    typed = "typed-key-9876543210-TYPED"
    for view in views:  # as the browser would send it: the box is emptied at once, the key kept privately
        view.key.password.set_state({"value": typed})
        assert view.key.password.value == ""
        assert mask_key(typed) in view.where.value and typed not in view.where.value
    composer.send_button.click()
    assert mask_key(typed) in composer.reply.value
    fuzz = views[2]
    fuzz.send_button.click()  # valid payloads to a remote host: refused before any request
    assert "ContractRefused" in fuzz.verdicts.value and fuzz.report is None

    views.append(DatasetValidator(frame))
    local = EventComposer(event="app_open")  # the embedded server's key is a key too
    local.send_button.click()
    views.append(local)
    keys = (SECRET, typed, local.target.server.app_key)
    assert mask_key(typed) in _all_state(composer)  # the walk does see what the views show
    for view in views:
        state = _all_state(view)
        for key in keys:
            assert key not in state
    registry = json.dumps(ipywidgets.Widget.get_manager_state(drop_defaults=False), default=str)
    assert all(k not in registry for k in keys)
    for view in views:
        view.close()


def test_views_display_through_their_widget_and_show_nothing_when_built():
    v = DatasetValidator()
    bundle = v._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == v.widget.model_id
    assert isinstance(v.widget, ipywidgets.VBox)
    v.close()


def test_fuzz_lab_with_no_event_selected_tests_every_event():
    with LocalServer() as srv:
        f = FuzzLab(endpoint=srv.endpoint, app_key=srv.app_key)
        f.events.value = ()
        f.n.value = 20
        f.contract_button.click()
        assert f.contract_report is not None, f.contract.value
        assert len({r.event for r in f.contract_report.results}) > 5
        f.close()
