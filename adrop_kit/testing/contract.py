"""Contract testing: ask an endpoint for its verdict on drawn payloads and compare it with ours.

    report = run_contract("https://api-v2.adrop.io/event", yes=True)   # key from ADROP_APP_KEY
    report.ok, report.summary(), report.disagreements[0].curl

One engine (`ContractRun`, an iterator of `ProbeResult` then `Disagreement`) serves every
front end: `run_contract` collects it into a `ContractReport`, `adrop-kit fuzz` prints that,
a notebook widget can follow it live through `on_result`.

For every (event, rule) pair of the catalog, the run draws payloads with the hypothesis
strategies (`events(name)`; `invalid_events(name, rules=[rule])`), sends each one, and
compares the endpoint's verdict (accepted: 200 `ok`; rejected: `!invalid` or 400/413/415)
with `validate_event`'s. For each pair where they differ it then searches, with
hypothesis, for the smallest payload the endpoint still disagrees on; that search sends
real requests, at most `max_shrink_requests` per pair, over the same connection.

Fuzz traffic is recognisable: every uid starts with `uid_prefix` (except the deliberately
broken uids of E002 and W106). To a host that is not this machine the run sends at most
2 events/s by default, and refuses to send anything the contract accepts (valid payloads,
and warnings, which Adrop would store as real events) unless `yes=True`.
"""

from __future__ import annotations

import json
import random
import shlex
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, seed, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable
from hypothesis.strategies import SearchStrategy

from adrop_kit.errors import ContractRefused
from adrop_kit.send.http import transport_for
from adrop_kit.send.outcome import Outcome
from adrop_kit.send.ratelimit import RateLimiter
from adrop_kit.send.retry import RetryPolicy, post_with_retries
from adrop_kit.send.transport import Endpoint, Reply, Request, Transport, mask_key, resolve_key
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.spec.rules import STRICT_RULES, Rule
from adrop_kit.spec.version import __version__
from adrop_kit.testing.contract_report import ContractReport, Disagreement, ProbeResult, payload_text
from adrop_kit.validate.event import validate_event

__all__ = ["ContractRefused", "ContractReport", "ContractRun", "Disagreement", "ProbeResult", "run_contract"]

UID_PREFIX = "adrop-kit-fuzz-"
REMOTE_RATE = 2.0
"""Events per second sent to a host that is not this machine, unless `rate=` says otherwise."""
PROBE_RETRY = RetryPolicy(retries=3, max_retry_time=60.0)
"""A probe compares verdicts; it need not ride out a long outage the way a backfill does."""
MAX_SHRINK_REQUESTS = 200
VALID_WEIGHT = 3
"""A valid payload pair gets this many shares of `examples` for one share of each broken rule."""
_KEEP_UID = frozenset({Rule.E002.value, Rule.W106.value})  # their broken uid is the point


class _TransportFailed(Exception):
    """No usable reply after retries, or a reply that stops the run (401): the endpoint cannot be probed."""


# -- the engine --------------------------------------------------------------------------
class ContractRun:
    """The probe as an iterator: `ProbeResult`s (every pair, in plan order), then one `Disagreement`
    per pair that disagreed. Arguments are checked, and the remote-safety refusal raised, on
    construction: before any request. Use as a context manager, or call `close()`."""

    def __init__(self, endpoint: Any = None, app_key: str | None = None, *, catalog: Catalog | str | None = None,
                 strict: bool = False, events: Iterable[str] | str | None = None,
                 rules: Iterable[str] | str | None = None, examples: int = 100, seed: int | None = None,
                 valid: bool = True, invalid: bool = True, rate: float | None = None,
                 uid_prefix: str = UID_PREFIX, shrink: bool = True, max_shrink_requests: int = MAX_SHRINK_REQUESTS,
                 yes: bool = False, retry: RetryPolicy = PROBE_RETRY, transport: Transport | str | None = None) -> None:
        from adrop_kit.testing.strategies import breakable_rules, rule_ids

        if type(examples) is not int or examples < 1:
            raise ValueError(f"examples must be a whole number of at least 1, not {examples!r}")
        if type(max_shrink_requests) is not int or max_shrink_requests < 0:
            raise ValueError(f"max_shrink_requests must be 0 or more, not {max_shrink_requests!r}")
        if not isinstance(uid_prefix, str):
            raise TypeError(f"uid_prefix must be a string, not {uid_prefix!r}")
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        if not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        if not (valid or invalid):
            raise ValueError("nothing to send: valid and invalid are both False")
        self.catalog = resolve(catalog)
        self.strict = strict
        self.uid_prefix = uid_prefix
        self.shrink = shrink
        self.max_shrink_requests = max_shrink_requests
        self.seed = random.randrange(2**32) if seed is None else int(seed)
        self.retry = retry
        names = self._event_names(events)
        wanted = rule_ids(rules) if invalid else ()
        self.pairs: list[tuple[str, str | None]] = []
        for name in names:
            if valid:
                self.pairs.append((name, None))
            self.pairs += [(name, r) for r in breakable_rules(name, catalog=self.catalog) if r in wanted]
        missing = [r for r in wanted if rules is not None and not any(pr == r for _, pr in self.pairs)]
        if missing:
            raise ValueError(f"no event of the selection ({', '.join(names)}) can break "
                             + ", ".join(f"{r} ({Rule(r).title})" for r in missing))
        self.expected = {p: self._expected_for(p[1]) for p in self.pairs}
        self.counts = self._share(examples)

        # the endpoint: a URL, a LocalServer (reached in process unless `transport` says otherwise), an
        # object with .endpoint/.app_key, or None (an embedded local server, in process, opened on first use)
        self._own_server = None
        self._local = None
        if endpoint is None:
            from adrop_kit.server import LocalServer

            self._own_server = endpoint = LocalServer(catalog=self.catalog, strict=strict)
        if transport is None and hasattr(endpoint, "app") and hasattr(endpoint, "open"):
            from adrop_kit.testing.local import IN_PROCESS_URL

            self._local = endpoint
            url = endpoint.endpoint if endpoint.listening else IN_PROCESS_URL + "/event"
        else:
            url = getattr(endpoint, "endpoint", endpoint)
        if not isinstance(url, str):
            raise TypeError(f"endpoint must be a URL or a server with an .endpoint, not {endpoint!r}")
        self._transport_arg = transport if transport is None or isinstance(transport, str) \
            else transport_for(transport)  # TypeError now for what is no transport
        self.endpoint = Endpoint.parse(url)
        accepted = list(dict.fromkeys(r or "valid" for p, r in sorted(self.pairs, key=lambda p: p[1] or "")
                                      if self.expected[(p, r)] == "accepted"))
        if not self.endpoint.is_local and accepted and not yes:
            raise ContractRefused(
                f"refusing to send payloads the contract accepts ({', '.join(accepted)}) to {self.endpoint.host}: "
                "they would be stored as real events. Pass --yes (yes=True) to send them anyway (their uid starts "
                f"with {uid_prefix!r}), or --invalid-only to send only payloads the contract rejects")
        key = app_key if app_key is not None else getattr(endpoint, "app_key", None)
        self._key = resolve_key(key)
        self.masked_key = mask_key(self._key)
        self.rate = rate if rate is not None else (None if self.endpoint.is_local else REMOTE_RATE)
        self.requests = 0
        self._transport: Transport | None = None
        self._limiter = None
        self.error: str | None = None

    # -- planning ---------------------------------------------------------------------
    def _event_names(self, events: Iterable[str] | str | None) -> tuple[str, ...]:
        if events is None:
            return self.catalog.names
        raw = [events] if isinstance(events, str) else list(events)
        names = [n.strip() for item in raw for n in item.split(",") if n.strip()]
        if not names:
            raise ValueError("events is empty: name at least one event, or pass None for all")
        return tuple(dict.fromkeys(self.catalog[n].name for n in names))  # UnknownEvent at once

    def _expected_for(self, rule: str | None) -> str:
        if rule is None:
            return "accepted"
        if Rule(rule).severity == "error" or (self.strict and Rule(rule) in STRICT_RULES):
            return "rejected"
        return "accepted"

    def _share(self, examples: int) -> dict[tuple[str, str | None], int]:
        weights = {p: VALID_WEIGHT if p[1] is None else 1 for p in self.pairs}
        total = sum(weights.values())
        return {p: max(1, round(examples * w / total)) for p, w in weights.items()}

    def strategy(self, event: str, rule: str | None) -> SearchStrategy[Any]:
        """What the run draws for one pair: the strategy, with the fuzz uid prefix applied."""
        from adrop_kit.testing.strategies import events, invalid_events

        if rule is None:
            base = events(event, catalog=self.catalog)
        else:
            base = invalid_events(event, catalog=self.catalog, rules=[rule]).map(lambda case: case[0])
        if not self.uid_prefix or rule in _KEEP_UID:
            return base
        return base.map(self._tag)

    def _tag(self, payload: Any) -> Any:
        if isinstance(payload, dict):
            uid = payload.get("uid")
            return {**payload, "uid": self.uid_prefix + uid} if isinstance(uid, str) and uid.strip() else payload
        if isinstance(payload, list):
            return [self._tag(p) for p in payload]
        if isinstance(payload, str) and payload.startswith("{"):  # E001: the event as a JSON string
            try:
                return json.dumps(self._tag(json.loads(payload)))
            except ValueError:
                return payload
        return payload

    # -- sending ----------------------------------------------------------------------------
    def _post(self, body: bytes) -> Reply:
        if self._transport is None:
            if self._local is not None:
                from adrop_kit.testing.local import local_transport

                self._transport = local_transport(self._local)
            else:
                self._transport = transport_for(self._transport_arg)
            self._limiter = RateLimiter(self.rate) if self.rate else None
        headers = {"Authorization": self._key or "", "Content-Type": "application/json",
                   "User-Agent": f"adrop-kit-fuzz/{__version__}"}
        request = Request(self.endpoint, body, headers, self.retry.timeout)
        reply, attempts, _ = post_with_retries(self._transport, request, self.retry, limiter=self._limiter)
        self.requests += attempts
        if reply.outcome in (Outcome.DELIVERED, Outcome.REJECTED):
            return reply
        if reply.fatal:
            raise _TransportFailed(reply.error or reply.summary)
        raise _TransportFailed(f"no usable reply from {self.endpoint.url} after {attempts} "
                               f"attempt{'s' if attempts > 1 else ''}: {reply.summary}")

    def probe(self, event: str, rule: str | None, payload: Any) -> ProbeResult:
        """Send one payload and compare verdicts (raises `_TransportFailed`)."""
        expected = "accepted" if validate_event(payload, catalog=self.catalog, strict=self.strict).ok else "rejected"
        body = payload_text(payload)
        reply = self._post(body.encode("utf-8"))
        observed = "accepted" if reply.outcome is Outcome.DELIVERED else "rejected"
        return ProbeResult(event, rule, payload, expected, observed, reply.status, expected == observed,
                           reply.message, body)

    def _draw(self, strategy: SearchStrategy[Any], n: int) -> list[Any]:
        """`n` examples decided by the seed. Hypothesis' first example is the simplest one whatever the
        seed (uid "u0", "TX-0"...): it is dropped, so a run with one payload per pair still varies with
        the seed (shrinking finds the simplest payload again when it matters)."""
        out: list[Any] = []

        @seed(self.seed)
        @settings(max_examples=n + 1, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def collect(x: Any) -> None:
            out.append(x)

        collect()
        return out[1:n + 1] if len(out) > n else out[:n]

    def _shrink(self, first: ProbeResult) -> Disagreement:
        tried: dict[str, ProbeResult] = {payload_text(first.payload): first}
        budget = [self.max_shrink_requests]
        failed: list[str] = []

        def disagrees(payload: Any) -> bool:
            body = payload_text(payload)
            if body in tried:
                return tried[body].observed == first.observed
            if failed or budget[0] <= 0:
                return False
            report = validate_event(payload, catalog=self.catalog, strict=self.strict)
            if ("accepted" if report.ok else "rejected") != first.expected:
                return False
            budget[0] -= 1
            try:
                result = self.probe(first.event, first.rule, payload)
            except _TransportFailed as exc:
                failed.append(str(exc))
                return False
            tried[body] = result
            return result.observed == first.observed

        minimal, shrunk = first.payload, False
        if self.shrink and self.max_shrink_requests:
            try:
                minimal = find(self.strategy(first.event, first.rule), disagrees, random=random.Random(self.seed),
                               settings=settings(database=None, deadline=None, max_examples=self.max_shrink_requests,
                                                 phases=[Phase.generate, Phase.shrink]))
                shrunk = True
            except (NoSuchExample, Unsatisfiable):
                pass
        if failed:
            self.error = failed[0]
        report = validate_event(minimal, catalog=self.catalog, strict=self.strict)
        body = payload_text(minimal)
        last = tried.get(body, first)
        return Disagreement(first.event, first.rule, first.expected, first.observed, minimal, first.payload,
                            last.status, last.message, tuple(sorted(report.rules)),
                            self.max_shrink_requests - budget[0], shrunk, body, self.curl(body))

    def curl(self, body: str) -> str:
        """The request as a shell command; the key is masked (put yours in its place)."""
        return (f"curl -sS -X POST {shlex.quote(self.endpoint.url)} "
                f"-H {shlex.quote('Authorization: ' + self.masked_key)} "
                f"-H 'Content-Type: application/json' --data-binary {shlex.quote(body)}")

    def __iter__(self) -> Generator[ProbeResult | Disagreement, None, None]:
        first: dict[tuple[str, str | None], ProbeResult] = {}
        try:
            for pair in self.pairs:
                for payload in self._draw(self.strategy(*pair), self.counts[pair]):
                    result = self.probe(*pair, payload)
                    if not result.agreed:
                        first.setdefault(pair, result)
                    yield result
            for pair in self.pairs:
                if pair in first:
                    yield self._shrink(first[pair])
                    if self.error:
                        return
        except _TransportFailed as exc:
            self.error = str(exc)
        finally:
            self.close()

    @property
    def planned(self) -> int:
        """Payloads the probe phase will send (shrinking sends more, for pairs that disagree)."""
        return sum(self.counts.values())

    def run(self, on_result: Callable[[ProbeResult | Disagreement], Any] | None = None) -> ContractReport:
        """Iterate the whole run into a `ContractReport` (`on_result`: see `run_contract`)."""
        report = ContractReport(self.endpoint.url, self.catalog.source, self.strict, self.seed, list(self.pairs))
        start = time.perf_counter()
        items = self.__iter__()
        try:
            for item in items:
                (report.results if isinstance(item, ProbeResult) else report.disagreements).append(item)
                if on_result is not None and on_result(item) is False:
                    report.interrupted = True
                    break
        finally:
            items.close()
            self.close()
        report.error = self.error
        report.requests = self.requests
        report.elapsed_s = time.perf_counter() - start
        return report

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._own_server is not None:
            self._own_server.close()

    def __enter__(self) -> ContractRun:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run_contract(endpoint: Any = None, app_key: str | None = None, *,
                 on_result: Callable[[ProbeResult | Disagreement], Any] | None = None,
                 **options: Any) -> ContractReport:
    """Probe `endpoint` and return a `ContractReport`; see the module docstring.

    `endpoint`: a URL (key from `app_key` or ADROP_APP_KEY), a `LocalServer` (reached in process,
    through its app), or None for an embedded local server in process with the same rules (every
    verdict agrees: a dry run of the machinery). `transport`: how requests travel to a URL (a
    transport object, or "http.client"/"requests"; HTTP by default). `examples` payloads in all,
    shared out over the (event, rule) pairs, valid pairs weighted 3:1; every pair gets at least
    one. `on_result` sees each `ProbeResult` as it arrives, then each `Disagreement`; returning
    False stops the run. Raises only for bad arguments (`ContractRefused`, `ValueError`,
    `UnknownEvent`, `MissingKey`) — before sending.
    Every other option is `ContractRun`'s (catalog, strict, events, rules, examples, seed, valid,
    invalid, rate, uid_prefix, shrink, max_shrink_requests, yes, retry, transport).
    """
    return ContractRun(endpoint, app_key, **options).run(on_result)
