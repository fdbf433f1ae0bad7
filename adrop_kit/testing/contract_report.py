"""What a contract run found: `ProbeResult` per payload, `Disagreement` per shrunk difference,
and the `ContractReport` that collects them (summary, JSON, HTML, exit code)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from adrop_kit.io.jsontext import dumps_payload, parse_json_text
from adrop_kit.support.html import html_table


@dataclass(frozen=True)
class ProbeResult:
    """One payload sent: what `validate_event` expects and what the endpoint said."""

    event: str                # the catalog event the payload was drawn from
    rule: str | None          # the rule it breaks; None for a valid payload
    payload: Any
    expected: str             # "accepted" | "rejected"  (validate_event's verdict)
    observed: str             # "accepted" | "rejected"  (the endpoint's)
    status: int | None
    agreed: bool
    message: str | None = None  # the reply's "message", e.g. "!invalid"
    body: str = ""              # the JSON text sent, exactly

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "rule": self.rule, "expected": self.expected, "observed": self.observed,
                "status": self.status, "message": self.message, "agreed": self.agreed, "body": self.body}


@dataclass(frozen=True)
class Disagreement:
    """An (event, rule) pair where the endpoint disagrees, with the smallest payload found."""

    event: str
    rule: str | None
    expected: str
    observed: str
    payload: Any              # minimal after shrinking (the first one found when shrinking is off or fails)
    original: Any             # the first disagreeing payload drawn
    status: int | None
    message: str | None
    local_rules: tuple[str, ...]  # what validate_event reports for `payload`
    shrink_requests: int
    shrunk: bool
    body: str
    curl: str                 # the same request as a shell command, the key masked

    def describe(self) -> str:
        what = "a valid payload" if self.rule is None else f"breaking {self.rule}"
        local = ("accepts it" + (f" with warning {', '.join(self.local_rules)}" if self.local_rules else "")
                 if self.expected == "accepted" else f"rejects it ({', '.join(self.local_rules)})")
        reply = f"{self.status} {self.message or ''}".strip() if self.status is not None else "no reply"
        return f"{self.event}, {what}: adrop_kit {local}; the endpoint {self.observed} it ({reply})"

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "rule": self.rule, "expected": self.expected, "observed": self.observed,
                "status": self.status, "message": self.message, "local_rules": list(self.local_rules),
                "payload": _loads(self.body), "body": self.body, "original_body": payload_text(self.original),
                "shrunk": self.shrunk, "shrink_requests": self.shrink_requests, "curl": self.curl}


@dataclass
class ContractReport:
    """Everything one run found. Data, not output: `adrop-kit fuzz` and widgets render it."""

    endpoint: str
    catalog: str
    strict: bool
    seed: int
    pairs: list[tuple[str, str | None]] = field(default_factory=list)  # (event, rule) pairs planned
    results: list[ProbeResult] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    requests: int = 0
    elapsed_s: float = 0.0
    error: str | None = None       # why the run stopped early (the endpoint could not be reached)
    interrupted: bool = False      # stopped by `on_result` returning False

    @property
    def ok(self) -> bool:
        return not self.disagreements and self.error is None and not self.interrupted

    def __repr__(self) -> str:
        t = self.totals()
        return (f"<ContractReport {self.endpoint} seed={self.seed} sent={t['sent']} agreed={t['agreed']} "
                f"disagreed={t['disagreed']} pairs_disagreed={t['pairs_disagreed']}"
                f"{' error=' + repr(self.error) if self.error else ''}>")

    def summary(self) -> list[dict[str, Any]]:
        """Per (event, rule) pair in plan order: sent, agreed, disagreed. `rule` None = valid payloads."""
        counts = {p: [0, 0] for p in self.pairs}
        for r in self.results:
            c = counts.setdefault((r.event, r.rule), [0, 0])
            c[0 if r.agreed else 1] += 1
        return [{"event": e, "rule": r, "sent": a + d, "agreed": a, "disagreed": d}
                for (e, r), (a, d) in counts.items()]

    def totals(self) -> dict[str, Any]:
        agreed = sum(r.agreed for r in self.results)
        return {"sent": len(self.results), "agreed": agreed, "disagreed": len(self.results) - agreed,
                "pairs": len(self.pairs), "pairs_disagreed": len(self.disagreements), "requests": self.requests,
                "elapsed_s": round(self.elapsed_s, 3)}

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "catalog": self.catalog, "strict": self.strict, "seed": self.seed,
                "ok": self.ok, "error": self.error, "interrupted": self.interrupted, "totals": self.totals(),
                "summary": self.summary(), "disagreements": [d.to_dict() for d in self.disagreements],
                "results": [r.to_dict() for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def _repr_html_(self) -> str:
        t = self.totals()
        esc = html.escape
        head = (f"<p><b>Contract run against {esc(self.endpoint)}</b> (seed {self.seed}): {t['sent']} payloads, "
                f"{t['agreed']} agreed, <b>{t['disagreed']} disagreed</b> on {t['pairs_disagreed']} of "
                f"{t['pairs']} event/rule pairs; {t['requests']} requests in {t['elapsed_s']} s.</p>")
        if self.error:
            head += f"<p style='color:#b00'>Stopped: {esc(self.error)}</p>"
        rows = [(s["event"], s["rule"] or "valid", s["sent"], s["agreed"], s["disagreed"])
                for s in self.summary() if s["sent"]]
        table = ("<details><summary>per event and rule</summary>"
                 + html_table(rows, ("event", "rule", "sent", "agreed", "disagreed")) + "</details>")
        dis = "".join(f"<li>{esc(d.describe())}<pre>{esc(d.body)}</pre><pre>{esc(d.curl)}</pre></li>"
                      for d in self.disagreements)
        return head + table + (f"<ol>{dis}</ol>" if dis else "")


def payload_text(payload: Any) -> str:
    """The exact JSON text sent (the sender's encoding: NaN/Infinity stay tokens, never null)."""
    return dumps_payload(payload).decode()


def _loads(body: str) -> Any:
    try:
        return parse_json_text(body, allow_nan=False)
    except ValueError:
        return None  # not strict JSON (NaN): `body` holds it exactly
