"""`/_local/*` locked down, and hostile values that once crashed it: a key or the admin token is
required, the Host must be the server's own (DNS rebinding), a cross-site POST cannot reset the
store, absurd `limit`/`offset` values are a 400, and a deeply nested event neither crashes the
request nor any later `/_local/events` page."""

from __future__ import annotations

import http.client
import json

import pytest

from adrop_kit.server import LocalServer

JSON = {"Content-Type": "application/json"}


def call(server, method, path, headers=None, body=None, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host or f"127.0.0.1:{server.port}")
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"null")
    conn.close()
    return out


def send_event(server, event):
    body = json.dumps(event).encode()
    return call(server, "POST", "/event", {"Authorization": server.app_key, **JSON}, body)


def key(server):
    return {"Authorization": server.app_key}


@pytest.mark.parametrize("path,method", [("/_local/stats", "GET"), ("/_local/events", "GET"),
                                         ("/_local/reset", "POST")])
def test_no_key_no_access(adrop_server, path, method):
    send_event(adrop_server, {"uid": "u", "eventName": "app_open"})
    body = b"{}" if method == "POST" else None
    assert call(adrop_server, method, path, JSON, body)[0] == 401
    assert call(adrop_server, method, path, {"Authorization": "wrong", **JSON}, body)[0] == 401
    assert adrop_server.stats()["total"] == 1  # the reset did not happen


def test_the_admin_token_or_an_app_key_opens_it(adrop_server):
    assert adrop_server.admin_token.startswith("local-admin-") and adrop_server.admin_token not in adrop_server.app_keys
    for auth in (adrop_server.admin_token, "Bearer " + adrop_server.admin_token, adrop_server.app_key):
        status, stats = call(adrop_server, "GET", "/_local/stats", {"Authorization": auth})
        assert (status, stats) == (200, {"total": 0, "good": 0, "bad": 0})
    assert call(adrop_server, "GET", "/_local/stats", {"Authorization": "Bearer wrong"})[0] == 401
    with LocalServer() as other:  # a token is per server
        assert other.admin_token != adrop_server.admin_token
        assert call(other, "GET", "/_local/stats", {"Authorization": adrop_server.admin_token})[0] == 401


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost",
                                  "127.0.0.1:{port}.evil.example", "attacker.localhost:{port}"])
def test_a_foreign_host_header_is_refused_dns_rebinding(adrop_server, host):
    send_event(adrop_server, {"uid": "u", "eventName": "app_open"})
    host = host.format(port=adrop_server.port)
    for path in ("/_local/stats", "/_local/events"):
        status, reply = call(adrop_server, "GET", path, key(adrop_server), host=host)
        assert status == 421 and "events" not in reply
    assert call(adrop_server, "POST", "/_local/reset", {**key(adrop_server), **JSON}, b"{}", host=host)[0] == 421
    assert adrop_server.stats()["total"] == 1


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_every_name_of_loopback_is_accepted(adrop_server, host):
    assert call(adrop_server, "GET", "/_local/stats", key(adrop_server),
                host=host.format(port=adrop_server.port))[0] == 200


def test_a_server_bound_off_loopback_on_purpose_does_not_check_the_host(monkeypatch):
    from adrop_kit.server import app, is_loopback

    assert not is_loopback("0.0.0.0") and not is_loopback("")  # every interface is off loopback
    # served as if bound off loopback, yet on 127.0.0.1: a test opens no port to the network
    monkeypatch.setattr(app, "is_loopback", lambda host: False)
    srv = LocalServer()
    with srv:
        assert srv.allowed_hosts is None
        assert call(srv, "GET", "/_local/stats", key(srv), host="my-laptop.lan:1234")[0] == 200


def test_a_cross_site_post_cannot_reset_the_store(adrop_server):
    send_event(adrop_server, {"uid": "u", "eventName": "app_open"})
    # a browser form: no key, a form content type, a foreign Origin
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}
    assert call(adrop_server, "POST", "/_local/reset", form, b"a=1")[0] == 401
    # even with a key (say, a page that learnt it), a foreign Origin is refused, and so is a non-JSON body
    for origin in ("https://evil.example", "null", f"http://localhost:{adrop_server.port}.evil.example",
                   f"http://127.0.0.1:{adrop_server.port + 1}"):
        assert call(adrop_server, "POST", "/_local/reset", {**key(adrop_server), **JSON, "Origin": origin},
                    b"{}")[0] == 403
    for ctype in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
        assert call(adrop_server, "POST", "/_local/reset", {**key(adrop_server), "Content-Type": ctype},
                    b"{}")[0] == 415
    assert call(adrop_server, "POST", "/_local/reset", key(adrop_server), b"")[0] == 415
    assert adrop_server.stats()["total"] == 1
    # the server's own origin (same Host), JSON: allowed
    own = {**key(adrop_server), **JSON, "Origin": f"http://127.0.0.1:{adrop_server.port}"}
    assert call(adrop_server, "POST", "/_local/reset", own, b"{}") == (200, {"message": "ok"})
    assert adrop_server.stats()["total"] == 0


def test_wrong_methods_on_local_paths(adrop_server):
    assert call(adrop_server, "GET", "/_local/reset", key(adrop_server))[0] == 405
    assert call(adrop_server, "POST", "/_local/stats", {**key(adrop_server), **JSON}, b"{}")[0] == 405
    assert call(adrop_server, "GET", "/_local/nope", key(adrop_server))[0] == 404


@pytest.mark.parametrize("query", [
    "offset=-1", "limit=-5", "offset=abc", "limit=1.5", "offset=9223372036854775808",
    "offset=99999999999999999999999", "limit=18446744073709551616", "offset=+1", "offset=%20%201", "offset=1e3",
    "offset=", "offset=%D9%A3", "limit=1&limit=2", "status=nope",
])
def test_absurd_paging_values_are_a_400_with_a_json_message(adrop_server, query):
    status, reply = call(adrop_server, "GET", "/_local/events?" + query, key(adrop_server))
    assert status == 400 and isinstance(reply["message"], str)


def test_the_largest_paging_values_are_fine(adrop_server):
    send_event(adrop_server, {"uid": "u", "eventName": "app_open"})
    status, reply = call(adrop_server, "GET", "/_local/events?offset=9223372036854775807&limit=9223372036854775807",
                         key(adrop_server))
    assert (status, reply) == (200, {"events": []})
    assert len(call(adrop_server, "GET", "/_local/events?limit=99999", key(adrop_server))[1]["events"]) == 1


def test_the_python_methods_refuse_absurd_paging_too(adrop_server):
    for bad in ({"offset": -1}, {"offset": 2**63}, {"limit": -1}, {"limit": "10"}, {"offset": 1.5}):
        with pytest.raises(ValueError):
            adrop_server.events(**bad)
    with pytest.raises(ValueError):
        adrop_server.events("nope")


@pytest.mark.parametrize("depth", [65, 256, 330, 5_000, 30_000])
def test_a_deeply_nested_event_is_invalid_and_every_page_still_answers(adrop_server, depth):
    deep = b'{"uid":"u","eventName":"app_open","x":' + b"[" * depth + b"]" * depth + b"}"
    status, reply = call(adrop_server, "POST", "/event?explain=1", {**key(adrop_server), **JSON}, deep)
    assert status == 400 and reply["message"] == "!invalid" and reply["violations"][0]["rule"] == "E001"
    send_event(adrop_server, {"uid": "u2", "eventName": "app_open"})
    for path in ("/_local/events", "/_local/events?status=bad", "/_local/stats"):
        assert call(adrop_server, "GET", path, key(adrop_server))[0] == 200
    [bad] = adrop_server.events("bad")
    assert bad["payload"] is None and bad["raw"].startswith('{"uid"')
    assert len(adrop_server.events()) == 2


def test_nesting_up_to_the_limit_is_parsed_and_judged(adrop_server):
    # the event is level 1; "x" holds 63 more levels: 64 in all, the most SPEC.md allows
    ok = b'{"uid":"u","eventName":"app_open","x":' + b"[" * 63 + b"]" * 63 + b"}"
    assert call(adrop_server, "POST", "/event", {**key(adrop_server), **JSON}, ok)[0] == 200
    strings = b'{"uid":"u","eventName":"app_open","x":"' + b"[" * 5000 + b'"}'  # brackets in a string do not nest
    assert call(adrop_server, "POST", "/event", {**key(adrop_server), **JSON}, strings)[0] == 200
    assert call(adrop_server, "GET", "/_local/events", key(adrop_server))[0] == 200
