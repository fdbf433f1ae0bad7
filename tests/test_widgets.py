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
    header = re.findall(r"<th[^>]*>(.*?)</th>", html)
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
    from adrop_kit.io.html import html_table

    rows = [(1, None, {"a": "<b>"}), (2, "x" * 300, [1, 2])]
    out = logic.table_html(rows, ("n", "text", "json"), "adrop-table adrop-x")
    assert out == html_table([(1, None, '{"a": "<b>"}'), (2, "x" * 119 + "…", "[1, 2]")], ("n", "text", "json"),
                             cls="adrop-table adrop-x")
    assert "class='adrop-table adrop-x'" in out and "&lt;b&gt;" in out and "<b>" not in out


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
    assert clean.height == v.report.valid and "row" in clean.columns
    csv = tmp_path / "clean.csv"
    csv.write_bytes(base64.b64decode(links["clean_rows.csv"]))
    assert validate_events(csv).invalid == 0  # the clean rows read back as they were: still valid
    v.folder.value = str(tmp_path / "out")
    v.save_button.click()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clean_rows.csv", "failures.csv"]
    assert str(tmp_path / "out") in v.saved.value
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


# -- SendPanel -----------------------------------------------------------------------------------------
def test_send_panel_dry_run_then_real_send_to_a_local_server(server):
    data = sample_frame(300, seed=2)
    expected = validate_events(data)
    p = SendPanel(data, endpoint=server.endpoint, app_key=server.app_key)
    assert p.dry_run.value is True
    p.send_button.click()
    assert p.report.dry_run and p.report.count("dry_run") == expected.valid
    assert p.report.skipped == expected.invalid
    assert server.stats()["total"] == 0
    assert f"Authorization: {mask_key(server.app_key)}" in p.requests.value
    p.dry_run.value = False
    p.concurrency.value = 4
    p.send_button.click()
    assert p.report.delivered == expected.valid == server.stats()["good"]
    assert (p.progress.value, p.progress.max) == (expected.valid, expected.valid)
    assert re.search(rf"{expected.valid:,}\s+delivered", text_of(p.counts.value))
    assert set(column(p.results.value, "outcome")) == {"skipped"}  # the problems table comes first
    p.close()


def test_send_panel_counts_arrive_live_through_the_senders_outcome_hook():
    data = sample_frame(300, seed=2)
    expected = validate_events(data)
    with LocalServer(faults=Faults(latency_ms=3)) as slow:  # slow enough for several redraws
        p = SendPanel(data, endpoint=slow.endpoint, app_key=slow.app_key)
        p.dry_run.value = False
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
    p.dry_run.value = False
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
    f.draw_button.click()
    assert bodies(f.cases) == bodies(drawn)  # same seed, same payloads
    f.send_button.click()
    report = f.report
    assert bodies(report.results) == bodies(drawn)  # "Send" sends what "Draw" showed
    assert f"all {len(drawn)} verdicts agree" in f.verdicts.value and not report.disagreements
    assert f.target.server.stats()["total"] == len(drawn)
    assert (f.progress.value, f.progress.max) == (len(drawn), len(drawn))
    f.seed.value = 1
    f.draw_button.click()
    assert bodies(f.cases) != bodies(drawn)
    f.close()


def test_fuzz_lab_reports_disagreements_with_a_stricter_server():
    with LocalServer(strict=True) as strict_server:
        f = FuzzLab(endpoint=strict_server.endpoint, app_key=strict_server.app_key, events=("click",))
        f.valid.value = False
        f.n.value = 60
        f.send_button.click()
        report = f.report
        disagree = [r for r in report.results if not r.agreed]
        assert disagree and {r.rule for r in disagree} == {"W101"}
        assert all((r.expected, r.observed) == ("accepted", "rejected") for r in disagree)
        assert [(d.event, d.rule) for d in report.disagreements] == [("click", "W101")]
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
        assert [d.rule for d in report.disagreements] == ["W101"] and "W101" in f.contract.value
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
    panel.send_button.click()  # dry run
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
