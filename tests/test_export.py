"""JSON Schema and OpenAPI from the catalog: they say what `validate_event` says, and the server keeps to them."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from adrop_kit import Catalog, Rule, validate_event
from adrop_kit.cli import main
from adrop_kit.server import MAX_BODY, LocalServer
from adrop_kit.spec.catalog import STANDARD
from adrop_kit.spec.jsonschema import dispatch_schema, event_schema, json_schemas, openapi, rules_of, write_json
from adrop_kit.testing.strategies import breakable_rules, events, invalid_events

MANY = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
ERRORS = tuple(r.value for r in Rule if r.severity == "error")
WARNINGS = tuple(r.value for r in Rule if r.severity == "warning"  # those a standard event's payload can break
                 and any(r.value in breakable_rules(n) for n in STANDARD.names))

# custom events of every parameter type, a name that is not a usable $defs key, optional items,
# and a standard event extended with a parameter
PLAN = Catalog.standard().extend({"events": {
    "level_up": {"group": "game", "description": "Player reached a level",
                 "params": {"level": {"type": "integer", "required": True, "description": "the new level"},
                            "hero": "string", "score": "number", "boss": {"type": "boolean", "required": True}}},
    "quiz/answered v2": {"params": {"answer": {"type": "string", "required": True}, "items": "items"}},
    "purchase": {"params": {"coupon": "string"}},
}})

DISPATCH = Draft202012Validator(dispatch_schema())
STRICT = Draft202012Validator(dispatch_schema(strict=True))
PER_EVENT = {name: Draft202012Validator(s) for name, s in json_schemas().items()}
PLAN_DISPATCH = Draft202012Validator(dispatch_schema(PLAN))


def finite(value: Any) -> bool:
    """Whether `value` holds no NaN or Infinity anywhere: JSON has no such numbers, so a JSON Schema
    validator never meets them in a real body; `validate_event` rejects them (E006) and the schema cannot."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list):
        return all(finite(v) for v in value)
    return True


def rules_named(validator: Draft202012Validator, payload: Any) -> set[str]:
    """The rules the schema's `$comment` annotations give for the errors it finds in `payload`."""
    out: set[str] = set()
    for error in validator.iter_errors(payload):
        nodes = [error.schema]
        if error.validator == "required":  # annotated on the missing property, not on the object
            nodes = [error.schema["properties"][k] for k in error.validator_value if k not in error.instance]
        for node in nodes:
            out.update(rules_of(node))
    return out


# -- the schema itself ---------------------------------------------------------------------
@pytest.mark.parametrize("catalog", [None, PLAN], ids=["standard", "plan"])
def test_every_schema_is_a_valid_draft_2020_12_schema(catalog: Catalog | None) -> None:
    for schema in (dispatch_schema(catalog), dispatch_schema(catalog, strict=True), *json_schemas(catalog).values()):
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] and schema["title"] and schema["description"]


def test_each_event_schema_comes_from_its_catalog_entry() -> None:
    schemas = json_schemas()
    assert list(schemas) == list(Catalog.standard().names)
    add_to_cart = schemas["add_to_cart"]
    assert add_to_cart["required"] == ["uid", "eventName", "item_id", "price", "quantity"]
    assert add_to_cart["properties"]["eventName"]["const"] == "add_to_cart"
    assert add_to_cart["properties"]["quantity"]["type"] == "integer"
    assert add_to_cart["properties"]["value"]["type"] == ["number", "null"]  # optional: null is absent
    assert add_to_cart["additionalProperties"] is True  # an unknown key is only W102
    items = schemas["purchase"]["properties"]["items"]
    assert items["minItems"] == 1 and items["items"]["required"] == ["item_id"]


def test_a_plan_gets_a_schema_for_each_custom_event_and_its_new_parameters() -> None:
    schemas = json_schemas(PLAN)
    level_up = schemas["level_up"]
    assert level_up["description"] == "Player reached a level" and "group: game" in level_up["$comment"]
    assert level_up["required"] == ["uid", "eventName", "level", "boss"]
    assert level_up["properties"]["boss"]["type"] == "boolean"
    assert level_up["properties"]["level"]["description"] == "the new level"
    assert schemas["quiz/answered v2"]["properties"]["items"]["type"] == ["array", "null"]
    assert "coupon" in schemas["purchase"]["properties"]
    assert "quiz/answered v2" not in json_schemas()
    v = Draft202012Validator(event_schema("level_up", PLAN))
    assert v.is_valid({"uid": "u1", "eventName": "level_up", "level": 3.0, "boss": False})
    assert not v.is_valid({"uid": "u1", "eventName": "level_up", "level": 3.5, "boss": False})


def test_annotations_name_error_rules_only() -> None:
    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            named.update(rules_of(node))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(dispatch_schema())
    assert named == set(ERRORS)


def test_a_blank_uid_is_whatever_str_strip_calls_blank() -> None:
    for uid in (" ", "\t\n", "\u3000", "\x1c", "\x85 "):  # U+001C and U+0085: blank to Python, not to ECMA \s
        assert not DISPATCH.is_valid({"uid": uid, "eventName": "app_open"})
        assert "E002" in validate_event({"uid": uid, "eventName": "app_open"}).rules
    for uid in ("u", " u ", "\ufeff"):  # U+FEFF: blank to ECMA \s, not to Python
        assert DISPATCH.is_valid({"uid": uid, "eventName": "app_open"})
        assert validate_event({"uid": uid, "eventName": "app_open"}).ok


# -- the schema agrees with validate_event ---------------------------------------------------
@MANY
@given(events())
def test_every_valid_event_is_valid_under_the_dispatch_and_its_own_schema(payload: dict) -> None:
    assert DISPATCH.is_valid(payload) and STRICT.is_valid(payload)
    assert PER_EVENT[payload["eventName"]].is_valid(payload)


@MANY
@given(events(), st.data())
def test_null_is_absent_for_the_schema_too(payload: dict, data: st.DataObject) -> None:
    spec = STANDARD[payload["eventName"]]
    paths = [("platform",)] + [(p.name,) for p in spec.params if not p.required]
    paths += [("items", i, p.name) for i in range(len(payload.get("items", ()))) for p in STANDARD.item_params
              if not p.required]
    *where, key = data.draw(st.sampled_from(paths))
    node = payload = json.loads(json.dumps(payload))  # a deep copy
    for step in where:
        node = node[step]
    node[key] = None
    assert validate_event(payload).ok
    assert DISPATCH.is_valid(payload) and PER_EVENT[payload["eventName"]].is_valid(payload)


@MANY
@given(invalid_events(rules=ERRORS))
def test_every_error_is_rejected_by_the_schema_under_the_rule_it_breaks(case: tuple[Any, str]) -> None:
    payload, rule = case
    if not finite(payload):  # NaN/Infinity: not JSON, no schema can see them (see finite())
        return
    assert not validate_event(payload).ok
    assert not DISPATCH.is_valid(payload)
    assert rule in rules_named(DISPATCH, payload), (payload, rule)
    name = payload.get("eventName") if isinstance(payload, dict) else None
    if isinstance(name, str) and name in PER_EVENT:
        assert not PER_EVENT[name].is_valid(payload)


@MANY
@given(invalid_events(rules=WARNINGS))
def test_a_payload_with_a_warning_only_is_valid_under_the_schema(case: tuple[Any, str]) -> None:
    payload, rule = case
    assert validate_event(payload).ok
    assert DISPATCH.is_valid(payload), (payload, rule)
    assert STRICT.is_valid(payload) is (rule not in ("W101", "W110"))  # strict: a name outside the catalog is an error


@MANY
@given(events(catalog=PLAN))
def test_plan_events_are_valid_under_the_plan_schema(payload: dict) -> None:
    assert PLAN_DISPATCH.is_valid(payload)
    if payload["eventName"] == "level_up":
        assert not DISPATCH.is_valid({**payload, "eventName": "purchase"})


@MANY
@given(invalid_events(catalog=PLAN, rules=ERRORS))
def test_plan_errors_are_rejected_by_the_plan_schema(case: tuple[Any, str]) -> None:
    payload, rule = case
    if not finite(payload):  # as above: not JSON
        return
    assert not validate_event(payload, catalog=PLAN).ok
    assert rule in rules_named(PLAN_DISPATCH, payload), (payload, rule)


# -- OpenAPI --------------------------------------------------------------------------------
def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(doc: dict, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("catalog", [None, PLAN], ids=["standard", "plan"])
def test_the_openapi_document_is_valid_openapi_3_1(catalog: Catalog | None) -> None:
    doc = json.loads(write_json(openapi(catalog)))  # survives JSON as is
    # openapi_spec_validator is not a dependency; schemathesis ships the official OAS 3.1 schema
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    oas = Draft202012Validator(definitions.OPENAPI_31)
    assert list(oas.iter_errors(doc)) == []
    assert not oas.is_valid({**doc, "info": {"title": "no version"}})  # the check has teeth
    # what the OAS schema leaves open: every $ref resolves, every schema is a 2020-12 schema
    for ref in refs(doc):
        resolve(doc, ref)
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    post = doc["paths"]["/event"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Event"}
    assert set(post["responses"]) == {"200", "400", "401", "413", "415"}
    app_key = dict(doc["components"]["securitySchemes"]["appKey"])
    description = app_key.pop("description")
    assert app_key == {"type": "apiKey", "in": "header", "name": "Authorization"}
    assert "app key" in description and "no scheme prefix" in description
    assert doc["servers"] == [{"url": "https://api-v2.adrop.io"}]


def test_openapi_request_schema_is_the_dispatch_schema() -> None:
    doc = openapi()
    assert doc["components"]["schemas"]["Event"]["allOf"][0]["then"] == {"$ref": "#/components/schemas/Event_app_open"}
    body = Draft202012Validator({"$ref": "#/components/schemas/Event", "components": doc["components"]})
    for payload in ({"uid": "u", "eventName": "sign_up", "method": "email"}, {"uid": "u", "eventName": "x"}):
        assert body.is_valid(payload) and DISPATCH.is_valid(payload)
    for payload in ({"uid": "u", "eventName": "sign_up"}, {"uid": " ", "eventName": "x"}, []):
        assert not body.is_valid(payload) and not DISPATCH.is_valid(payload)


# -- the local server (the plugin's adrop_server) against the document ---------------------------
def _post(server: LocalServer, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    req = urllib.request.Request(server.endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_every_documented_reply_is_what_the_server_sends(adrop_server: LocalServer) -> None:
    responses = openapi()["paths"]["/event"]["post"]["responses"]
    good = json.dumps({"uid": "u1", "eventName": "app_open"}).encode()
    key, json_ct = adrop_server.app_key, {"Content-Type": "application/json"}
    sent = {
        200: (good, {"Authorization": key, **json_ct}),
        400: (b'{"uid": "u1", "eventName": "sign_up"}', {"Authorization": key, **json_ct}),
        401: (good, {"Authorization": "wrong", **json_ct}),
        413: (b" " * (MAX_BODY + 1), {"Authorization": key, **json_ct}),
        415: (good, {"Authorization": key, "Content-Type": "text/plain"}),
    }
    for status, (body, headers) in sent.items():
        got, reply = _post(adrop_server, body, headers)
        assert got == status
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        Draft202012Validator(schema).validate(reply)


@pytest.mark.slow  # schemathesis: 50 generated requests a mode
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_finds_no_server_error_and_only_documented_replies(adrop_server: LocalServer, mode: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    operation = schemathesis.openapi.from_dict(openapi())["/event"]["POST"]
    seen: Counter[int] = Counter()

    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    def check(case: Any) -> None:
        # every built-in check: not_a_server_error, status_code_conformance, response_schema_conformance,
        # positive_data_acceptance, negative_data_rejection, ... (a failure raises)
        response = case.call_and_validate(base_url=adrop_server.url, headers={"Authorization": adrop_server.app_key})
        seen[response.status_code] += 1

    check()
    if mode == "positive":  # what the schema accepts, the server accepts
        assert set(seen) == {200}
    else:  # what the schema rejects, the server rejects (401: schemathesis also drops the key)
        assert set(seen) <= {400, 401} and seen[400]


# -- the CLI ---------------------------------------------------------------------------------
def test_cli_prints_one_json_schema_document_with_each_event_under_defs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "jsonschema"]) == 0
    doc = json.loads(capsys.readouterr().out)
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc == dispatch_schema()
    assert list(doc["$defs"]) == list(Catalog.standard().names)
    v = Draft202012Validator(doc)
    assert v.is_valid({"uid": "u1", "eventName": "app_open"})
    assert not v.is_valid({"uid": "u1", "eventName": "purchase", "tx_id": "T"})  # E007: selected by eventName
    assert not v.is_valid({"uid": "u1", "eventName": "add_to_cart", "item_id": "A", "price": "12,900", "quantity": 1})


def test_cli_out_dir_writes_the_document_and_one_file_per_event(tmp_path: Path) -> None:
    assert main(["export", "jsonschema", "--out", str(tmp_path / "schemas")]) == 0
    files = {p.name for p in (tmp_path / "schemas").iterdir()}
    assert files == {"adrop-event.schema.json", *(f"{n}.schema.json" for n in Catalog.standard().names)}
    one = json.loads((tmp_path / "schemas" / "add_to_cart.schema.json").read_text(encoding="utf-8"))
    assert one == event_schema("add_to_cart")
    Draft202012Validator.check_schema(one)
    doc = json.loads((tmp_path / "schemas" / "adrop-event.schema.json").read_text(encoding="utf-8"))
    assert doc == dispatch_schema()
    assert main(["export", "jsonschema", "--out", str(tmp_path / "one.json")]) == 0  # a .json: the document alone
    assert json.loads((tmp_path / "one.json").read_text(encoding="utf-8")) == doc


def _json_payloads(n: int) -> list[Any]:
    """Valid payloads, every error rule and every warning, drawn from the strategies (the same ones each
    run: derandomized): those JSON can carry."""
    from hypothesis import HealthCheck as HC
    from hypothesis import given as given_
    from hypothesis import settings as settings_

    out: list[Any] = []

    @settings_(max_examples=n, database=None, derandomize=True, deadline=None,
               suppress_health_check=list(HC))
    @given_(st.one_of(events(), invalid_events().map(lambda case: case[0])))
    def draw(payload: Any) -> None:
        if finite(payload):
            out.append(payload)

    draw()
    return out


def test_the_exported_document_alone_gives_validate_events_verdict_on_a_generated_set(
        capsys: pytest.CaptureFixture[str]) -> None:
    for strict in (False, True):
        assert main(["export", "jsonschema", *(["--strict"] if strict else [])]) == 0
        validator = Draft202012Validator(json.loads(capsys.readouterr().out))
        payloads = _json_payloads(examples(300))
        assert len(payloads) > 40
        wrong = [p for p in payloads if validator.is_valid(p) is not validate_event(p, strict=strict).ok]
        assert wrong == [], wrong[:3]


def _ajv() -> str | None:
    """A directory where `require("ajv/dist/2020")` works (ADROP_AJV_DIR, else the working directory), or None."""
    import os
    import shutil
    import subprocess

    where = os.environ.get("ADROP_AJV_DIR", os.getcwd())
    if shutil.which("node") is None:
        return None
    ok = subprocess.run(["node", "-e", 'require("ajv/dist/2020")'], cwd=where, capture_output=True)
    return where if ok.returncode == 0 else None


def test_ajv_compiles_the_document_as_is_and_agrees(tmp_path: Path) -> None:
    """ajv (strict mode, the default) refuses unknown keywords: the document uses standard ones only.
    Runs where Node and ajv are installed (ADROP_AJV_DIR=a directory with node_modules/ajv)."""
    import subprocess

    where = _ajv()
    if where is None:
        pytest.skip("needs node and ajv (npm install ajv; ADROP_AJV_DIR=that directory)")
    (tmp_path / "schema.json").write_text(write_json(dispatch_schema()), encoding="utf-8")
    payloads = _json_payloads(examples(300))
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in payloads),
                                      encoding="utf-8")
    script = ('const A=require("ajv/dist/2020"),fs=require("fs");const v=new A().compile(JSON.parse('
              'fs.readFileSync(process.argv[1],"utf8")));console.log(JSON.stringify(fs.readFileSync('
              'process.argv[2],"utf8").split("\\n").filter(Boolean).map(l=>v(JSON.parse(l)))))')
    res = subprocess.run(["node", "-e", script, str(tmp_path / "schema.json"), str(tmp_path / "p.jsonl")],
                         cwd=where, capture_output=True, text=True, check=True)
    assert res.stderr == "", res.stderr  # no strict-mode warning either
    verdicts = json.loads(res.stdout)
    assert verdicts == [validate_event(p).ok for p in payloads]


def test_cli_prints_one_event_of_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"events": {"level_up": {"params": {"level": {"type": "integer", "required": True}}}}}))
    assert main(["export", "jsonschema", "--plan", str(plan), "--event", "level_up"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "level_up" and "level" in schema["required"]


def test_cli_writes_openapi_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "api" / "openapi.json"
    assert main(["export", "openapi", "--out", str(out), "--server-url", "http://127.0.0.1:8787"]) == 0
    assert capsys.readouterr().out == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "http://127.0.0.1:8787"}]


def test_cli_unknown_event_is_a_usage_error_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "jsonschema", "--event", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "'nope' is not in the catalog" in captured.err
    assert main(["export"]) == 2
