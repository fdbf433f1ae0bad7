"""Two edges of sending (issue 19): a redirect is never followed, and the app key never leaves,
however a server echoes it.

The servers are tiny `http.server`s on 127.0.0.1, written here: one that redirects, one that counts
what reaches it, one that echoes the request's key back in every spelling a reply may use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import KEY, app_opens, write_jsonl

from adrop_kit import RetryPolicy
from adrop_kit.send.asgi import ASGITransport
from adrop_kit.send.journal import Journal
from adrop_kit.send.redact import mask_key, redact
from adrop_kit.send.sender import Sender
from adrop_kit.send.transport import Endpoint, Request, Response, classify, deliver

NO_RETRY = RetryPolicy(retries=0)
Answer = Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]


@contextmanager
def serving(answer: Answer) -> Iterator[tuple[str, list[bytes]]]:
    """A server on 127.0.0.1 answering every POST with `answer(handler, body)`; yields its /event URL
    and the bodies it received."""
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append(body)
            status, headers, reply = answer(self, body)
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(reply))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(reply)

        do_POST = do_GET = _any

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}/event", got
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def ok(handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, b'{"message":"ok"}'


# -- redirects -------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["http.client", "requests"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_it_fails_the_run_naming_where_it_pointed(transport, status):
    with serving(ok) as (elsewhere, reached):
        where = elsewhere + f"?key={urllib.parse.quote(KEY)}"  # a Location may even carry the key

        def redirect(handler, body):
            return status, {"Location": where}, b""

        with serving(redirect) as (endpoint, asked), \
                Sender(KEY, endpoint=endpoint, transport=transport, retry=RetryPolicy(retries=3),
                       progress=False, concurrency=1) as s:
            result = s.send({"uid": "u1", "eventName": "app_open"})
            report = s.send_all(app_opens(3))
    assert reached == []  # nothing went to where the redirect pointed: not the body, not a GET
    assert result.outcome == "failed" and result.status == status and result.attempts == 1
    assert len(asked) == 2  # not retried, and the run stopped at the first redirect
    assert f"{status} redirect to http://127.0.0.1:" in result.error and "not followed" in result.error
    assert KEY not in result.error and mask_key(KEY) in result.error
    assert report.delivered == 0 and report.failed + report.pending == 3 and report.aborted


def test_a_redirect_from_an_in_process_app_is_the_same_failure():
    async def app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 307, "headers": [(b"location", b"http://evil/\x1b[31m")]})
        await send({"type": "http.response.body", "body": b""})

    request = Request(Endpoint.parse("http://localhost/event"), b"{}", {"Authorization": KEY})
    transport = ASGITransport(app)
    try:
        reply = deliver(transport, request)
    finally:
        transport.close()
    assert reply.fatal and reply.status == 307 and "redirect to http://evil/\\x1b[31m" in reply.error
    assert "\x1b" not in reply.error


def test_a_redirect_without_location_says_so():
    reply = classify(302, b"", None, None)
    assert reply.fatal and "(no Location header)" in reply.error


def test_the_cli_send_to_a_redirecting_endpoint_exits_3_with_one_line(tmp_path, monkeypatch):
    data = write_jsonl(tmp_path / "e.jsonl", app_opens(2))

    def redirect(handler, body):
        return 308, {"Location": "http://203.0.113.9/event"}, b""

    with serving(redirect) as (endpoint, _):
        run = subprocess.run([sys.executable, "-m", "adrop_kit", "send", str(data), "--endpoint", endpoint,
                              "--no-progress"], capture_output=True, text=True, timeout=120,
                             env={**_env(), "ADROP_APP_KEY": KEY})
    assert run.returncode == 3, run.stderr
    assert "redirect to http://203.0.113.9/event" in run.stdout + run.stderr and "Traceback" not in run.stderr


# -- the key never leaves ----------------------------------------------------------------------------

def spellings(key: str) -> list[str]:
    """Every way a server or proxy has been seen to echo a header value."""
    return [key, json.dumps(key)[1:-1], json.dumps(key).replace("-", "\\u002d")[1:-1],
            "".join(f"\\u{ord(c):04x}" for c in key), urllib.parse.quote(key, safe=""),
            urllib.parse.quote(urllib.parse.quote(key, safe=""), safe=""),
            "".join(f"%{ord(c):02x}" for c in key), f"Authorization: {key}", f"authorization={key!r}",
            "".join(f"&#{ord(c)};" for c in key)]


def test_redact_removes_every_spelling_and_keeps_the_rest():
    for form in spellings(KEY):
        text = redact(f"bad request {{'headers': '{form}'}} at /event", KEY)
        assert KEY not in text and form not in text and mask_key(KEY) in text
        assert text.startswith("bad request") and text.endswith("at /event")
    assert redact("nothing to hide", KEY) == "nothing to hide"
    assert redact(None, KEY) is None and redact("x", None) == "x"


def echo_key(statuses: list[int]) -> Answer:
    """Replies echoing the request's Authorization header, each in another spelling and status."""
    n = iter(range(10**6))

    def answer(handler, body):
        i = next(n)
        key = handler.headers.get("Authorization", "")
        form = spellings(key)[i % len(spellings(key))]
        status = statuses[i % len(statuses)]
        reply = json.dumps({"message": f"!invalid header {form}", "request": dict(handler.headers)}) \
            if status == 400 else '{"message": "denied for ' + form + '"}'
        return status, {"Content-Type": "application/json", "X-Echo": urllib.parse.quote(key)}, reply.encode()

    return answer


@pytest.mark.parametrize("transport", ["http.client", "requests"])
def test_a_key_echoing_server_never_gets_the_key_into_results_journal_or_exceptions(transport, tmp_path):
    with serving(echo_key([400, 500, 404])) as (endpoint, _):
        journal = Journal(tmp_path / "j.sqlite")
        with Sender(KEY, endpoint=endpoint, transport=transport, retry=NO_RETRY, journal=journal,
                    progress=False, concurrency=1) as s:
            results = [s.send({"uid": f"u{i}", "eventName": "app_open"}) for i in range(len(spellings(KEY)))]
            report = s.send_all(write_jsonl(tmp_path / "in" / "e.jsonl", app_opens(12)),
                                outcomes_out=tmp_path / "o.jsonl")
        journal.close()
    text = repr(results) + json.dumps(report.to_dict(), default=str) + report._repr_html_()
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert {r.outcome for r in results} >= {"rejected", "failed"}
    for form in spellings(KEY):
        assert form not in text and form.encode() not in files
    assert mask_key(KEY) in text


def test_the_cli_send_against_a_key_echoing_server_shows_no_key_anywhere(tmp_path):
    data = write_jsonl(tmp_path / "e.jsonl", app_opens(6))
    outputs = []
    with serving(echo_key([400, 500, 400, 403])) as (endpoint, _):
        for fmt in ("table", "json"):
            run = subprocess.run([sys.executable, "-m", "adrop_kit", "send", str(data), "--endpoint", endpoint,
                                  "--no-progress", "--retries", "0", "--concurrency", "1", "--format", fmt,
                                  "--journal", str(tmp_path / f"j-{fmt}.sqlite"),
                                  "--outcomes-out", str(tmp_path / f"o-{fmt}.jsonl")],
                                 capture_output=True, timeout=120, env={**_env(), "ADROP_APP_KEY": KEY})
            assert run.returncode in (1, 3), run.stderr
            outputs += [run.stdout, run.stderr]
    outputs += [p.read_bytes() for p in tmp_path.iterdir() if p.is_file()]
    blob = b"\n".join(outputs)
    assert b"denied for" in blob or b"!invalid" in blob  # the replies did reach the outputs
    for form in spellings(KEY):
        assert form.encode() not in blob, form


def test_an_exception_a_transport_raises_is_redacted_and_keeps_its_type():
    class Leaky:
        def handle(self, request):
            raise ValueError(f"bad header {urllib.parse.quote(request.headers['Authorization'])}")

        def close(self):
            pass

    request = Request(Endpoint.parse("https://api.example.com/event"), b"{}", {"Authorization": KEY})
    with pytest.raises(ValueError) as info:
        deliver(Leaky(), request)
    assert urllib.parse.quote(KEY) not in str(info.value) and mask_key(KEY) in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None or \
        urllib.parse.quote(KEY) not in str(info.value.__context__) or info.value.__suppress_context__


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "ADROP_APP_KEY"} | {"NO_COLOR": "1"}


def test_response_keeps_location():
    assert Response(302, b"", None, "https://x").location == "https://x"
