"""Transports are objects: the Sender takes one; in process (ASGI) to the local server's real app, over
HTTP, or a user's own. Whatever carries the request, the reply means the same and the key never shows."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from conftest import KEY, app_opens

from adrop_kit import InsecureEndpoint, RetryPolicy
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.send.asgi import ASGITransport
from adrop_kit.send.http import HTTPTransport, RequestsTransport, transport_for
from adrop_kit.send.journal import Journal
from adrop_kit.send.sender import Sender
from adrop_kit.send.transport import Endpoint, Request, Response, deliver
from adrop_kit.server import Faults, hash_uid
from adrop_kit.testing.local import IN_PROCESS_URL, local_server, local_transport

NO_RETRY = RetryPolicy(retries=0)
OK = Response(200, b'{"message":"ok"}')


class Recorder:
    """A user's own transport: keeps every body, answers as told (ok by default)."""

    def __init__(self, reply: Response = OK):
        self.reply = reply
        self.bodies: list[bytes] = []
        self.closed = 0
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.bodies.append(request.body)
        return self.reply

    def close(self) -> None:
        self.closed += 1


def test_a_sender_in_process_delivers_to_the_local_server_and_it_stores_what_was_sent():
    events = [{"uid": f"user-{i}", "eventName": "purchase", "currency": "KRW",
               "tx_id": f"T-{i}", "items": [{"item_id": "SKU-1", "price": 9900 + i, "quantity": 1}]}
              for i in range(40)] + app_opens(20)
    with local_server() as srv:
        assert not srv.listening  # no socket: the app is called in this process
        with Sender(srv.app_key, transport=local_transport(srv), concurrency=4, progress=False) as s:
            report = s.send_all(events)
            assert s.endpoint.url == IN_PROCESS_URL + "/event"
        assert report.delivered == len(events) and srv.stats() == {"total": 60, "good": 60, "bad": 0}
        stored = sorted((e["payload"] for e in srv.events("good", limit=100)), key=lambda p: p["uid"])
    sent = sorted(({**e, "uid": hash_uid(e["uid"])} for e in events), key=lambda p: p["uid"])
    assert stored == sent  # nothing altered on the way (the uid hashed, as Adrop stores it)


def _outcomes(srv, transport):
    """What a Sender makes of every kind of reply the local server can give, over `transport`."""
    results = {}
    with Sender(srv.app_key, endpoint=srv.endpoint if transport is None else None, transport=transport,
                retry=NO_RETRY, validate=False, progress=False) as s:
        results["ok"] = s.send({"uid": "u", "eventName": "app_open"})
        results["invalid"] = s.send({"uid": "u", "eventName": "sign_up"})  # method missing: !invalid
    with Sender("wrong-key-123", endpoint=srv.endpoint if transport is None else None, transport=transport,
                retry=NO_RETRY, progress=False) as s:
        results["key"] = s.send({"uid": "u", "eventName": "app_open"})
    for fault in ("fail_rate", "throttle_rate", "drop_rate"):
        srv.faults.__init__(**{fault: 1.0, "retry_after": 0})
        with Sender(srv.app_key, endpoint=srv.endpoint if transport is None else None, transport=transport,
                    retry=NO_RETRY, progress=False) as s:
            results[fault] = s.send({"uid": "u", "eventName": "app_open"})
        srv.faults.__init__()
    return {k: (r.outcome, r.status, r.error) for k, r in results.items()}


def test_in_process_and_over_a_socket_every_reply_means_the_same():
    with local_server(socket=True) as srv:
        over_http = _outcomes(srv, None)
        in_process = _outcomes(srv, local_transport(srv))
    assert in_process == over_http
    assert over_http["ok"][:2] == ("delivered", 200)
    assert over_http["invalid"][:2] == ("rejected", 400)
    assert over_http["key"][:2] == ("failed", 401)
    assert over_http["fail_rate"][:2] == ("failed", 503) and over_http["throttle_rate"][:2] == ("failed", 429)
    assert over_http["drop_rate"] == ("failed", None, "the server closed the connection without replying")


@pytest.mark.parametrize("status", [200, 202, 400, 500])
def test_a_reply_carrying_invalid_is_a_rejection_whatever_its_status_and_transport(status):
    async def app(scope, receive, send):  # an ASGI app that says !invalid with any status
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b'{"message":"!invalid"}'})

    asgi = ASGITransport(app, endpoint="http://localhost/event")
    for transport in (asgi, Recorder(Response(status, b'{"message":"!invalid"}'))):
        with Sender(KEY, transport=transport, retry=NO_RETRY, progress=False) as s:
            result = s.send({"uid": "u", "eventName": "app_open"})
        assert (result.outcome, result.status) == ("rejected", status)
    asgi.close()


def test_a_users_own_transport_gets_the_events_as_sent_and_the_same_journal():
    rec = Recorder()
    events = app_opens(25)
    journal = Journal(":memory:")
    with Sender(KEY, transport=rec, concurrency=3, journal=journal, progress=False) as s:
        assert s.endpoint.url == "https://api-v2.adrop.io/event"  # a transport without an endpoint: Adrop's
        assert s.send_all(events).delivered == 25
        assert s.send_all(events).already_delivered == 25  # the journal still works: nothing sent twice
    assert sorted(rec.bodies) == sorted(dumps_payload(e) for e in events)
    assert rec.closed >= 1  # closed after each batch and with the Sender


def test_the_transport_decides_the_way_not_the_http_rules():
    with pytest.raises(InsecureEndpoint):  # plain http:// off this machine is refused whatever carries it
        Sender(KEY, endpoint="http://example.com/event", transport=Recorder())


def test_the_key_never_shows_in_a_request_or_in_what_a_transport_or_server_echoes():
    class Echo(Recorder):
        def handle(self, request: Request) -> Response:
            return Response(500, json.dumps({"message": f"bad key {request.headers['Authorization']}"}).encode())

    class Leaky(Recorder):
        def handle(self, request: Request) -> Response:
            raise ConnectionError(f"proxy refused {dict(request.headers)}")

    request = Request(Endpoint.parse("https://api.example.com/event"), b"{}", {"Authorization": KEY})
    assert KEY not in repr(request) and "sk…89" in repr(request)
    for transport in (Echo(), Leaky()):
        journal = Journal(":memory:")
        with Sender(KEY, transport=transport, retry=NO_RETRY, journal=journal, progress=False) as s:
            assert KEY not in repr(s)
            report = s.send_all(app_opens(2))
            result = s.send({"uid": "x", "eventName": "app_open"})
        assert report.failed == 2 and result.outcome == "failed"
        text = json.dumps(report.to_dict(), default=str) + repr(result) + repr(journal.lookup(
            o.key for o in report.outcomes))
        assert KEY not in text and "sk…89" in text


def test_a_transport_is_given_as_an_object_or_as_one_of_two_names():
    assert isinstance(transport_for(None), HTTPTransport)
    assert isinstance(transport_for("http.client"), HTTPTransport)
    assert isinstance(transport_for("requests"), RequestsTransport)
    rec = Recorder()
    assert transport_for(rec) is rec
    with pytest.raises(ValueError, match="http.client, requests"):
        Sender(KEY, transport="urllib")
    with pytest.raises(TypeError, match="handle"):
        Sender(KEY, transport=object())


def test_no_reply_from_a_transport_is_worth_a_retry_and_any_exception_but_oserror_is_not_swallowed():
    class Down(Recorder):
        def handle(self, request: Request) -> Response:
            raise TimeoutError

    request = Request(Endpoint.parse("https://api.example.com/event"), b"{}", {"Authorization": KEY})
    reply = deliver(Down(), request)
    assert (reply.outcome, reply.retryable, reply.status, reply.error) == ("failed", True, None,
                                                                           "timed out waiting for the server")

    class Broken(Recorder):
        def handle(self, request: Request) -> Response:
            raise RuntimeError("a bug in the transport")

    with pytest.raises(RuntimeError):
        deliver(Broken(), request)
    with Sender(KEY, transport=Broken(), progress=False) as s:  # a run stops and says why, it does not retry
        report = s.send_all(app_opens(3))
    assert report.failed + report.pending == 3 and "a bug in the transport" in report.aborted


def test_the_in_process_server_applies_its_faults_retries_and_limits():
    with local_server(faults=Faults(fail_rate=0.5, seed=3)) as srv:
        with Sender(srv.app_key, transport=local_transport(srv), retry=RetryPolicy(retries=20, backoff=0.001),
                    progress=False) as s:
            report = s.send_all(app_opens(30))
        assert report.delivered == 30 and report.retries > 0  # every 503 retried through the same loop
        assert srv.stats()["good"] == 30  # acknowledged = stored, once each
        too_big = {"uid": "u", "eventName": "app_open", "pad": "x" * 70_000}
        with Sender(srv.app_key, transport=local_transport(srv), validate=False, retry=NO_RETRY,
                    progress=False) as s:
            srv.faults.__init__()
            result = s.send(too_big)
        assert (result.outcome, result.status) == ("rejected", 413)


def test_opening_a_local_server_in_process_loads_no_http_server():
    code = ("import sys; from adrop_kit.testing.local import local_server, local_transport; "
            "s = local_server(); local_transport(s); s.close(); "
            "print(sorted(m for m in ('uvicorn', 'h11', 'httptools') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
