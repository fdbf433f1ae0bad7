"""The local server over real HTTP: reply codes, storage, inspection, hostile clients."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import time

import pytest

from adrop_kit.server import MAX_BODY, Faults, LocalServer

KEY = "test-key-123456"
HEADERS = {"Authorization": KEY, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server():
    with LocalServer(app_keys=[KEY]) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    server.reset()


def post(server, body, headers=HEADERS, path="/event", method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    out = resp.status, resp.read(), dict(resp.getheaders())
    conn.close()
    return out


def test_a_valid_event_gets_ok_and_is_stored_with_its_uid_hashed(server):
    status, body, _ = post(server, {"uid": "user-1", "eventName": "app_open"})
    assert (status, json.loads(body)) == (200, {"message": "ok"})
    assert server.stats() == {"total": 1, "good": 1, "bad": 0}
    (stored,) = server.events("good")
    digest = hashlib.sha256(b"user-1").hexdigest()
    assert stored["uid_sha256"] == digest and stored["payload"]["uid"] == digest
    assert "user-1" not in json.dumps(stored)


def test_an_invalid_event_gets_bare_invalid_unless_explain_is_asked(server):
    status, body, headers = post(server, {"uid": "u", "eventName": "sign_up"})
    assert (status, json.loads(body)) == (400, {"message": "!invalid"})
    assert "X-Adrop-Kit-Violations" not in headers
    status, body, headers = post(server, {"uid": "u", "eventName": "sign_up"}, path="/event?explain=1")
    data = json.loads(body)
    assert status == 400 and data["message"] == "!invalid"
    assert data["violations"][0]["rule"] == "E005" and headers["X-Adrop-Kit-Violations"] == "E005"
    bad = server.events("bad")
    assert len(bad) == 2 and bad[0]["violations"][0]["field"] == "method"


def test_warnings_alone_are_accepted(server):
    status, _, _ = post(server, {"uid": "u", "eventName": "my_custom_event"})
    assert status == 200


@pytest.mark.parametrize("headers,expected", [
    ({"Content-Type": "application/json"}, 401),
    ({"Authorization": "wrong", "Content-Type": "application/json"}, 401),
    ({"Authorization": KEY, "Content-Type": "text/plain"}, 415),
    ({"Authorization": KEY}, 415),
])
def test_auth_and_content_type(server, headers, expected):
    status, body, _ = post(server, {"uid": "u", "eventName": "app_open"}, headers=headers)
    assert status == expected
    assert json.loads(body)["message"].startswith("!")
    assert server.stats()["total"] == 0


def test_json_with_charset_is_fine(server):
    status, _, _ = post(server, {"uid": "u", "eventName": "app_open"},
                        headers={**HEADERS, "Content-Type": "application/json; charset=utf-8"})
    assert status == 200


def test_body_over_64_kib_is_413(server):
    big = {"uid": "u", "eventName": "page_view", "page_id": "x" * MAX_BODY}
    status, body, _ = post(server, big)
    assert status == 413 and json.loads(body) == {"message": "!too_large"}


def test_other_paths_and_methods(server):
    assert post(server, {}, path="/nope")[0] == 404
    status, _, headers = post(server, b"", method="GET")
    assert status == 405 and headers["Allow"] == "POST"
    assert post(server, b"", method="PUT")[0] == 405


@pytest.mark.parametrize("body", [b"\xff\xfe garbage", b"[1,2,3]", b'"just a string"', b"null", b"{", b""])
def test_garbage_bodies_are_invalid_not_crashes(server, body):
    status, reply, _ = post(server, body)
    assert (status, json.loads(reply)) == (400, {"message": "!invalid"})
    assert server.stats() == {"total": 1, "good": 0, "bad": 1}


def test_inspection_endpoints(server):
    for i in range(3):
        post(server, {"uid": f"u{i}", "eventName": "app_open"})
    post(server, {"uid": "u", "eventName": "sign_up"})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/_local/stats")
    assert json.loads(conn.getresponse().read()) == {"total": 4, "good": 3, "bad": 1}
    conn.request("GET", "/_local/events?status=good&limit=2&offset=1")
    events = json.loads(conn.getresponse().read())["events"]
    assert [e["eventName"] for e in events] == ["app_open", "app_open"] and len(events) == 2
    conn.request("GET", "/_local/events?status=nope")
    r = conn.getresponse()
    assert r.status == 400
    r.read()
    conn.request("POST", "/_local/reset", body=b"")
    assert conn.getresponse().read() == b'{"message":"ok"}'
    assert server.stats()["total"] == 0


def _raw(server, data: bytes, *, read_timeout=5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def test_hostile_requests_do_not_take_the_server_down(server):
    assert b" 400 " in _raw(server, b"\x00\x01\x02 not http at all\r\n\r\n")
    # a body shorter than its Content-Length, then the client goes away
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"POST /event HTTP/1.1\r\nHost: x\r\nAuthorization: " + KEY.encode()
                  + b"\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"uid\":")
    # a negative / non-numeric Content-Length
    reply = _raw(server, b"POST /event HTTP/1.1\r\nHost: x\r\nAuthorization: " + KEY.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: nope\r\nConnection: close\r\n\r\n")
    assert b" 400 " in reply.split(b"\r\n")[0]
    # an absurd header line
    _raw(server, b"GET /_local/stats HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n", read_timeout=2)
    # the server still answers
    status, _, _ = post(server, {"uid": "u", "eventName": "app_open"})
    assert status == 200


def test_slow_clients_do_not_block_others(server):
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(b"POST /event HTTP/1.1\r\nHost: x\r\n")  # and then nothing
    try:
        t = time.perf_counter()
        assert post(server, {"uid": "u", "eventName": "app_open"})[0] == 200
        assert time.perf_counter() - t < 2
    finally:
        slow.close()


def test_faults_are_reproducible_with_a_seed():
    def run() -> list[int]:
        with LocalServer(app_keys=[KEY], faults=Faults(fail_rate=0.3, throttle_rate=0.2, seed=7,
                                                        retry_after=2)) as srv:
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
    with LocalServer(app_keys=[KEY], faults=Faults(drop_rate=1.0)) as srv:
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
                    headers={**HEADERS, "Authorization": srv.app_key})[0] == 200


def test_a_chunked_body_is_read(server):
    body = b'{"uid": "u", "eventName": "app_open"}'
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:10], body[10:])) + b"0\r\n\r\n"
    reply = _raw(server, b"POST /event HTTP/1.1\r\nHost: x\r\nAuthorization: " + KEY.encode()
                 + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 + chunked)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"message":"ok"}')
    assert server.stats()["good"] == 1


@pytest.mark.parametrize("body,rule", [
    (b'{"uid":"u","eventName":"view_item","item_id":"a","price":1e400}', "E006"),  # JSON, but not a finite number
    (b'{"uid":"u","eventName":"app_open","note":NaN}', "E001"),                     # NaN is not JSON
    (b'{"uid":"\\ud800x","eventName":"app_open"}', "E001"),                          # JSON, but not storable text
])
def test_json_edge_cases(server, body, rule):
    status, reply, headers = post(server, body, path="/event?explain=1")
    if rule is None:
        assert status == 200 and server.stats()["good"] == 1
    else:
        assert status == 400 and headers["X-Adrop-Kit-Violations"] == rule
