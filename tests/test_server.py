"""The local server over real HTTP: reply codes, storage, inspection, hostile clients.

Most tests use the plugin's `adrop_server` (one server for the session, emptied before each test);
a server with faults, or one built to test how a server is built, is started here.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import time

import pytest
from conftest import exchange

from adrop_kit.server import MAX_BODY, Faults, LocalServer

JSON = {"Content-Type": "application/json"}


def post(server, body, headers=None, path="/event", method="POST"):
    """One request; `headers` default to the server's key and a JSON body."""
    headers = {"Authorization": server.app_key, **JSON} if headers is None else headers
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    out = resp.status, resp.read(), resp.headers  # names are case-insensitive (uvicorn sends them lower-case)
    conn.close()
    return out


def test_a_valid_event_gets_ok_and_is_stored_with_its_uid_hashed(adrop_server):
    status, body, _ = post(adrop_server, {"uid": "user-1", "eventName": "app_open"})
    assert (status, json.loads(body)) == (200, {"message": "ok"})
    assert adrop_server.stats() == {"total": 1, "good": 1, "bad": 0}
    (stored,) = adrop_server.events("good")
    digest = hashlib.sha256(b"user-1").hexdigest()
    assert stored["uid_sha256"] == digest and stored["payload"]["uid"] == digest
    assert "user-1" not in json.dumps(stored)


def test_an_invalid_event_gets_bare_invalid_unless_explain_is_asked(adrop_server):
    status, body, headers = post(adrop_server, {"uid": "u", "eventName": "sign_up"})
    assert (status, json.loads(body)) == (400, {"message": "!invalid"})
    assert "X-Adrop-Kit-Violations" not in headers
    status, body, headers = post(adrop_server, {"uid": "u", "eventName": "sign_up"}, path="/event?explain=1")
    data = json.loads(body)
    assert status == 400 and data["message"] == "!invalid"
    assert data["violations"][0]["rule"] == "E005" and headers["X-Adrop-Kit-Violations"] == "E005"
    bad = adrop_server.events("bad")
    assert len(bad) == 2 and bad[0]["violations"][0]["field"] == "method"


def test_warnings_alone_are_accepted(adrop_server):
    status, _, _ = post(adrop_server, {"uid": "u", "eventName": "my_custom_event"})
    assert status == 200


@pytest.mark.parametrize("key,content_type,expected", [
    (None, "application/json", 401),
    ("wrong", "application/json", 401),
    ("right", "text/plain", 415),
    ("right", None, 415),
])
def test_auth_and_content_type(adrop_server, key, content_type, expected):
    headers = {} if key is None else {"Authorization": adrop_server.app_key if key == "right" else key}
    headers |= {} if content_type is None else {"Content-Type": content_type}
    status, body, _ = post(adrop_server, {"uid": "u", "eventName": "app_open"}, headers=headers)
    assert status == expected
    assert json.loads(body)["message"].startswith("!")
    assert adrop_server.stats()["total"] == 0


def test_json_with_charset_is_fine(adrop_server):
    headers = {"Authorization": adrop_server.app_key, "Content-Type": "application/json; charset=utf-8"}
    status, _, _ = post(adrop_server, {"uid": "u", "eventName": "app_open"}, headers=headers)
    assert status == 200


def test_body_over_64_kib_is_413(adrop_server):
    big = {"uid": "u", "eventName": "page_view", "page_id": "x" * MAX_BODY}
    status, body, _ = post(adrop_server, big)
    assert status == 413 and json.loads(body) == {"message": "!too_large"}


def test_other_paths_and_methods(adrop_server):
    assert post(adrop_server, {}, path="/nope")[0] == 404
    status, _, headers = post(adrop_server, b"", method="GET")
    assert status == 405 and headers["Allow"] == "POST"
    assert post(adrop_server, b"", method="PUT")[0] == 405


@pytest.mark.parametrize("body", [b"\xff\xfe garbage", b"[1,2,3]", b'"just a string"', b"null", b"{", b""])
def test_garbage_bodies_are_invalid_not_crashes(adrop_server, body):
    status, reply, _ = post(adrop_server, body)
    assert (status, json.loads(reply)) == (400, {"message": "!invalid"})
    assert adrop_server.stats() == {"total": 1, "good": 0, "bad": 1}


def test_inspection_endpoints(adrop_server):
    for i in range(3):
        post(adrop_server, {"uid": f"u{i}", "eventName": "app_open"})
    post(adrop_server, {"uid": "u", "eventName": "sign_up"})
    key = {"Authorization": adrop_server.app_key}
    conn = http.client.HTTPConnection("127.0.0.1", adrop_server.port, timeout=5)
    conn.request("GET", "/_local/stats", headers=key)
    assert json.loads(conn.getresponse().read()) == {"total": 4, "good": 3, "bad": 1}
    conn.request("GET", "/_local/events?status=good&limit=2&offset=1", headers=key)
    events = json.loads(conn.getresponse().read())["events"]
    assert [e["eventName"] for e in events] == ["app_open", "app_open"] and len(events) == 2
    conn.request("GET", "/_local/events?status=nope", headers=key)
    r = conn.getresponse()
    assert r.status == 400
    r.read()
    conn.request("POST", "/_local/reset", body=b"{}", headers={**key, **JSON})
    assert conn.getresponse().read() == b'{"message":"ok"}'
    assert adrop_server.stats()["total"] == 0


def test_hostile_requests_do_not_take_the_server_down(adrop_server):
    assert b" 400 " in exchange(adrop_server, b"\x00\x01\x02 not http at all\r\n\r\n")
    # a body shorter than its Content-Length, then the client goes away
    with socket.create_connection(("127.0.0.1", adrop_server.port)) as s:
        s.sendall(b"POST /event HTTP/1.1\r\nHost: x\r\nAuthorization: " + adrop_server.app_key.encode()
                  + b"\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"uid\":")
    # a negative / non-numeric Content-Length
    reply = exchange(adrop_server, b"POST /event HTTP/1.1\r\nHost: x\r\nAuthorization: " + adrop_server.app_key.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: nope\r\nConnection: close\r\n\r\n")
    assert b" 400 " in reply.split(b"\r\n")[0]
    # an absurd header line
    exchange(adrop_server, b"GET /_local/stats HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n", timeout=2)
    # the server still answers
    status, _, _ = post(adrop_server, {"uid": "u", "eventName": "app_open"})
    assert status == 200


def test_slow_clients_do_not_block_others(adrop_server):
    slow = socket.create_connection(("127.0.0.1", adrop_server.port))
    slow.sendall(b"POST /event HTTP/1.1\r\nHost: x\r\n")  # and then nothing
    try:
        assert post(adrop_server, {"uid": "u", "eventName": "app_open"})[0] == 200
        slow.setblocking(False)  # answered while the slow one still waits (its cut-off is 10 s away): not behind it
        with pytest.raises(BlockingIOError):
            slow.recv(1)
    finally:
        slow.close()


def test_faults_are_reproducible_with_a_seed():
    def run() -> list[int]:
        with LocalServer(faults=Faults(fail_rate=0.3, throttle_rate=0.2, seed=7, retry_after=2)) as srv:
            out = []
            for _ in range(30):
                status, _, headers = post(srv, {"uid": "u", "eventName": "app_open"})
                out.append(status)
                if status == 429:
                    assert headers["Retry-After"] == "2"
            return out
    first = run()
    assert first == run()
    assert {200, 503, 429} <= set(first)


def test_drop_closes_the_connection_without_a_reply():
    with LocalServer(faults=Faults(drop_rate=1.0)) as srv:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            post(srv, {"uid": "u", "eventName": "app_open"})
        assert srv.stats()["total"] == 0


def test_bad_fault_settings_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults(fail_rate=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        Faults(fail_rate=0.6, drop_rate=0.6)


def test_a_generated_key_when_none_is_given(monkeypatch):
    monkeypatch.delenv("ADROP_APP_KEY", raising=False)
    with LocalServer() as srv:
        assert srv.generated_key and srv.app_key.startswith("local-")
        assert post(srv, {"uid": "u", "eventName": "app_open"},
                    headers={"Authorization": srv.app_key, **JSON})[0] == 200


def test_a_chunked_body_is_read(adrop_server):
    body = b'{"uid": "u", "eventName": "app_open"}'
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:10], body[10:])) + b"0\r\n\r\n"
    reply = exchange(adrop_server, b"POST /event HTTP/1.1\r\nHost: x\r\nAuthorization: " + adrop_server.app_key.encode()
                 + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 + chunked)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"message":"ok"}')
    assert adrop_server.stats()["good"] == 1


@pytest.mark.parametrize("body,rule", [
    (b'{"uid":"u","eventName":"view_item","item_id":"a","price":1e308}', None),    # large, but finite: accepted
    (b'{"uid":"u","eventName":"view_item","item_id":"a","price":1e400}', None),    # a number of any size (SPEC)
    (b'{"uid":"u","eventName":"app_open","note":NaN}', "E001"),                     # NaN is not JSON
    (b'{"uid":"\\ud800x","eventName":"app_open"}', "E001"),                          # JSON, but not storable text
])
def test_json_edge_cases(adrop_server, body, rule):
    status, reply, headers = post(adrop_server, body, path="/event?explain=1")
    if rule is None:
        assert status == 200 and adrop_server.stats()["good"] == 1
    else:
        assert status == 400 and headers["X-Adrop-Kit-Violations"] == rule


def test_the_public_surface_is_kept(tmp_path):
    srv = LocalServer(host="127.0.0.1", port=0, app_keys=["k1", "k2"], db=str(tmp_path / "e.db"), catalog=None,
                      strict=True, faults=Faults(seed=1), verbose=False)
    assert not srv.generated_key and srv.app_keys == {"k1", "k2"} and srv.app_key == "k1"
    assert srv.bind() is srv and srv.port > 0  # the port is known before serving
    assert srv.url == f"http://127.0.0.1:{srv.port}" and srv.endpoint == srv.url + "/event"
    with srv:  # start() in a background thread
        assert post(srv, {"uid": "u", "eventName": "my_custom_event"},
                    headers={"Authorization": "k2", **JSON})[0] == 400  # strict
        assert srv.stats() == {"total": 1, "good": 0, "bad": 1}
        assert srv.events("bad", limit=1, offset=0)[0]["violations"][0]["rule"] == "W101"
        srv.reset()
        assert srv.events() == []
    srv.close()  # twice is fine
    with pytest.raises((ConnectionError, OSError)):
        post(srv, {"uid": "u", "eventName": "app_open"})


def test_serve_forever_in_a_thread_stops_on_close():
    import threading

    srv = LocalServer().bind()
    t = threading.Thread(target=srv.serve_forever)
    t.start()
    end = time.monotonic() + 30  # the thread may start late on a loaded machine
    while True:
        try:
            assert post(srv, {"uid": "u", "eventName": "app_open"})[0] == 200
            break
        except ConnectionError:
            assert time.monotonic() < end, "the server never answered"
            time.sleep(0.02)
    srv.stop()
    t.join(10)
    assert not t.is_alive()
