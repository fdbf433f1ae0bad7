"""`SendReport`: what happened to every event of a send (its vocabulary: `send.outcome`)."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adrop_kit.send.outcome import COLUMNS, LISTED, OUTCOME_WORDS, OUTCOMES, PROBLEMS, EventOutcome, Outcome
from adrop_kit.spec.rules import Rule, printable
from adrop_kit.support.html import html_table
from adrop_kit.support.labels import count_of, source_label, top_counts

DEFAULT_HOLD: frozenset[str] = frozenset({Rule.W110.value})
"""What a send holds back unless told otherwise: W110 rows (a near miss of a catalog event, almost surely
a typo; sent, it would be a custom event whose parameters nobody checks)."""


def hold_rules(hold: bool | str | Iterable[str] | None) -> frozenset[str] | bool:
    """What `hold_warnings=` asks: None (the default, `DEFAULT_HOLD`), True or `"all"` (every warning),
    False or `"none"` (nothing), or the warning rule ids to hold (`"W110,W107"` or an iterable);
    ValueError naming an id that is not a warning rule."""
    if hold is None:
        return DEFAULT_HOLD
    if hold is False:
        return frozenset()
    if hold is True:
        return True
    if isinstance(hold, str) and hold.strip().lower() in ("all", "none"):
        return True if hold.strip().lower() == "all" else frozenset()
    ids = [i.strip() for i in hold.split(",")] if isinstance(hold, str) else [str(i).strip() for i in hold]
    warnings = {r.value for r in Rule if r.severity == "warning"}
    for i in ids:
        if i.upper() not in warnings:
            what = "is an error rule: rows with errors are never sent" if i.upper() in {r.value for r in Rule} \
                else "is not a rule id"
            raise ValueError(f"cannot hold back rows with {i!r}: it {what}; warning rules are "
                             f"{', '.join(sorted(warnings))}")
    return frozenset(i.upper() for i in ids)

_TIMINGS = ("elapsed_s", "events_per_s", "longest_wait_s")


@dataclass
class SendReport:
    total: int
    outcomes: list[EventOutcome]
    elapsed_s: float
    source: str = "<data>"
    endpoint: str = ""
    dry_run: bool = False
    interrupted: bool = False
    aborted: str | None = None
    requests: list[str] = field(default_factory=list)
    retries: int = 0
    """Retries spent in this run (attempts beyond each event's first)."""
    longest_wait_s: float = 0.0
    """The longest single pause between two attempts of one event (back-off or Retry-After)."""
    journal_error: str | None = None
    """Why the journal could not be written, when that stopped the run (`aborted` says so too)."""
    read_all: bool = True
    """False when a streamed send stopped (interrupted or aborted) before reading its input to the end:
    rows after those counted in `total` were not read, and are in no bucket; a re-run reads them."""
    counts: Mapping[str, int] | None = None
    """The exact count of each outcome, when `outcomes` does not list every row: a streamed send
    lists only the `LISTED` outcomes (the rows needing attention) and counts the others."""
    outcomes_out: str | None = None
    """The file every row's outcome was written to (`outcomes_out=`, `--outcomes-out`), if any."""
    journal: str | None = None
    """The journal this send read and wrote (None: no journal, so a re-run sends everything again)."""
    quarantine: str | None = None
    """The file every row not sent was written to (`quarantine=`, `--quarantine`), if any."""
    notes: tuple[str, ...] = ()
    """What the input looks like when it is not Adrop events (a GA4 or Segment export: which import to run)."""
    custom_events: Mapping[str, int] = field(default_factory=dict)
    """Rows that went out (in a dry run: would go out) as custom events (W101, and W110 rows not held), by
    eventName."""

    def __post_init__(self) -> None:
        self.outcomes.sort(key=lambda o: (o.source or "", o.row))
        listed = Counter(o.outcome for o in self.outcomes)
        self._counts = listed if self.counts is None else Counter(self.counts)
        if any(listed[o] != self._counts[o] for o in LISTED):  # pragma: no cover - a bug, not bad data
            raise AssertionError(f"listed outcomes {dict(listed)} != counted {dict(self._counts)}")

    def count(self, outcome: str) -> int:
        return self._counts.get(outcome, 0)

    @property
    def delivered(self) -> int:
        return self.count(Outcome.DELIVERED)

    @property
    def rejected(self) -> int:
        return self.count(Outcome.REJECTED)

    @property
    def failed(self) -> int:
        return self.count(Outcome.FAILED)

    @property
    def skipped(self) -> int:
        return self.count(Outcome.SKIPPED)

    @property
    def already_delivered(self) -> int:
        return self.count(Outcome.ALREADY_DELIVERED)

    @property
    def pending(self) -> int:
        return self.count(Outcome.PENDING)

    @property
    def held(self) -> int:
        """Valid rows held back because they carry a warning `hold_warnings=` names (not a failure)."""
        return self.count(Outcome.HELD)

    @property
    def changed(self) -> int:
        """Rows delivered earlier in another form, not sent again (`resend_changed=` sends them)."""
        return self.count(Outcome.CHANGED)

    @property
    def unlisted(self) -> int:
        """Rows counted but not in `outcomes` (a streamed send's delivered, already delivered and
        dry-run rows); 0 when `outcomes` lists every row."""
        return sum(self._counts.values()) - len(self.outcomes)

    def unlisted_note(self, how: str = "outcomes_out= (CLI: --outcomes-out)") -> str:
        """'' when `outcomes` lists every row, else which rows were counted but not listed, and where
        every row's outcome is (the `outcomes_out` file, or `how` to get one)."""
        if not self.unlisted:
            return ""
        kinds = [w for o, w in ((Outcome.DELIVERED, "delivered"), (Outcome.ALREADY_DELIVERED, "already delivered"))
                 if self.count(o)]
        rows = f"{' and '.join(kinds)} rows are" if kinds else "rows that would be sent are"
        if self.outcomes_out:
            return f"{rows} counted, not listed; every row's outcome is in {self.outcomes_out}"
        return f"{rows} counted, not listed; use {how} for every row's outcome"

    def held_rules(self) -> list[str]:
        """The warning rule ids of the held rows, in order."""
        import re

        held = (o.error or "" for o in self.outcomes if o.outcome == Outcome.HELD)
        return sorted({r for why in held for r in re.findall(r"\bW\d{3}\b", why)})

    def held_for(self, rule: str | Rule) -> dict[str, int]:
        """The rows held back for `rule` (W110 by default), by eventName."""
        import re

        find = re.compile(rf"\b{Rule(rule).value}\b")
        return dict(Counter(o.eventName or "" for o in self.outcomes
                            if o.outcome == Outcome.HELD and find.search(o.error or "")))

    def event_notes(self) -> list[str]:
        """What a summary says of event names: the rows held for W110 (near misses of catalog events),
        and the rows that go out as custom events (W101), each with its most frequent names."""
        notes = []
        near = self.held_for(Rule.W110)
        if near:
            notes.append(f"{count_of(sum(near.values()))} held for W110 (a near miss of a catalog event, "
                         f"not sent): {_names(near)}")
        if self.custom_events:
            verb = "would go out" if self.dry_run else "went out"
            notes.append(f"{count_of(sum(self.custom_events.values()))} {verb} as custom events "
                         "(W101: eventName outside the catalog): "
                         f"{_names(self.custom_events)}")
        return notes

    @property
    def events_per_s(self) -> float:
        sent = self.delivered + self.rejected + self.failed
        return sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every valid event is delivered (now or earlier); rows held back by `hold_warnings=` are the
        caller's choice, not a failure, and do not count against it."""
        return not (self.rejected or self.failed or self.pending or self.skipped)

    def summary(self) -> dict[str, Any]:
        s: dict[str, Any] = {"total": self.total, "delivered": self.delivered, "rejected": self.rejected,
                             "failed": self.failed, "skipped": self.skipped,
                             "already_delivered": self.already_delivered, "pending": self.pending,
                             "held": self.held, "changed": self.changed,
                             "elapsed_s": round(self.elapsed_s, 3), "events_per_s": round(self.events_per_s, 1),
                             "retries": self.retries, "longest_wait_s": round(self.longest_wait_s, 3)}
        if self.dry_run:
            s["dry_run"] = self.count(Outcome.DRY_RUN)
        return s

    def table(self) -> Any:
        """The listed per-row outcomes as a polars DataFrame: every row, or for a streamed send the
        rows needing attention (`unlisted_note()` says so; `outcomes_out=` has every row)."""
        import polars as pl

        types = (pl.Int64, pl.String, pl.String, pl.String, pl.Int64, pl.Int64, pl.String, pl.String)
        schema = dict(zip(COLUMNS, types, strict=True))
        df = pl.DataFrame([o.as_row() for o in self.outcomes], schema=schema, orient="row")
        return df if df.get_column("source").is_not_null().any() else df.drop("source")

    def problems(self) -> list[EventOutcome]:
        return [o for o in self.outcomes if o.outcome in PROBLEMS]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "endpoint": self.endpoint, "interrupted": self.interrupted,
                "aborted": self.aborted, **({} if self.read_all else {"read_all": False}),
                "problems": [o.as_dict() for o in self.problems()],
                **({"held": [o.as_dict() for o in self.outcomes if o.outcome == Outcome.HELD]} if self.held else {}),
                **({"requests": self.requests} if self.dry_run else {}),
                **({"outcomes_out": self.outcomes_out} if self.outcomes_out else {}),
                "journal": self.journal,
                **({"changed": [o.as_dict() for o in self.outcomes if o.outcome == Outcome.CHANGED]}
                   if self.changed else {}),
                **({"quarantine": self.quarantine} if self.quarantine else {}),
                **({"notes": list(self.notes)} if self.notes else {}),
                **({"custom_events": dict(self.custom_events)} if self.custom_events else {}),
                **({"held_for_W110": near} if (near := self.held_for(Rule.W110)) else {}),
                **({"note": note} if (note := self.unlisted_note()) else {})}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def __repr__(self) -> str:
        s = self.summary()
        parts = ", ".join(f"{k}={v}" for k, v in s.items() if k not in _TIMINGS and v)
        note = self.unlisted_note()
        return (f"<SendReport {source_label(self.source, self.total)}: {parts} in {s['elapsed_s']}s"
                f"{'; ' + note if note else ''}>")

    def rate_text(self) -> str:
        """'1,565 events per second', or '' when nothing went over the network (no 0.0 rate)."""
        if not (self.delivered + self.rejected + self.failed) or self.elapsed_s <= 0:
            return ""
        rate = self.events_per_s
        return f"{rate:,.0f} events per second" if rate >= 10 else f"{rate:,.1f} events per second"

    def _repr_html_(self) -> str:
        s = self.summary()
        shown = [o for o in Outcome if o.value in s and (s[o.value] or o in (Outcome.DELIVERED,))]
        if self.dry_run:
            shown = [o for o in shown if o is not Outcome.DELIVERED]
        cards = [(self.total, "rows in all"), *((s[o.value], OUTCOME_WORDS[o]) for o in shown)]
        cells = "".join(f"<td style='padding:4px 10px'><b>{n:,}</b><br><span style='color:#666'>{word}</span></td>"
                        for n, word in cards)
        took = f"took {self.elapsed_s:.2f} s"
        rate = self.rate_text()
        extra = []
        if self.retries:
            extra.append(f"{self.retries:,} retries; the longest wait between two attempts was "
                         f"{self.longest_wait_s:g} s")
        if self.held:
            extra.append(f"held back {self.held:,} rows with warnings {', '.join(self.held_rules())}")
        extra += self.event_notes()
        if self.unlisted:
            extra.append(self.unlisted_note())
        what = "dry run to" if self.dry_run else "send to"
        problems = self.problems()[:20]
        return (f"<div><b>{html.escape(source_label(self.source, self.total))}</b>: {what} "
                f"{html.escape(self.endpoint)} — {took}{', ' + rate if rate else ''}"
                + "".join(f"<br><span style='color:#666'>{html.escape(e)}</span>" for e in extra)
                + f"<table><tr>{cells}</tr></table>"
                + (html_table([o.as_row() for o in problems], COLUMNS) if problems else "") + "</div>")


def _names(counts: Mapping[str, int]) -> str:
    return top_counts({printable(k): v for k, v in counts.items()})


__all__ = ["DEFAULT_HOLD", "LISTED", "OUTCOMES", "OUTCOME_WORDS", "EventOutcome", "Outcome", "SendReport", "hold_rules"]
