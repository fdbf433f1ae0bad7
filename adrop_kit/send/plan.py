"""The per-batch planner: what becomes of each row of a checked batch, before anything is sent.

Every dataset send runs it, whatever its size or engine: a frame or a file read whole (one batch),
a streamed input (batch by batch, `send.stream`) and each chunk of a Spark partition
(`adrop_kit.spark.send`). Given a batch's rows and its violations it decides each row's job:

    an error                       → SKIPPED (never sent)
    a warning `hold_warnings=` names → HELD (not sent, not journaled: a run without it sends them)
    settled by an earlier run      → ALREADY_DELIVERED, or REJECTED (the `Resume` says so)
    a dry run                      → DRY_RUN (what a real run would send)
    else                           → a `Job`: the body to send, under its event key

`Resume` is the one way a send learns what earlier runs settled: the SQLite journal
(`send.journal.Journal`) is one, Spark's `previous=` outcomes table another.

Event identity (`Identity`, the one place keys are made) survives a re-run whatever flags changed:

- with an `id_column` (an event id the export already has): the key is a hash of that id; a second row
  with the same id in one input is not sent again (skipped, naming the first); an id delivered with
  another body (the journal keeps the hash of the body sent: `delivered_bodies`) is `changed`;
- otherwise the key is a hash of the body that would be sent (its canonical JSON: keys sorted)
  and its occurrence among identical bodies in the input, in input order: `<hash>` for the first,
  `<hash>.1` for the second… So the same rows in another order, or in another batch or part file,
  have the same keys; two identical events in one input (a user opening the app twice) are two
  events; appended rows are new keys.
- a row whose key is unknown but whose position (`source`, `row`) an earlier run delivered under a
  key no longer in the input, for the same user and eventName (`subject`: an edit, not another event
  in its place), is `changed` (changed since delivered): not sent again unless `resend_changed=`. An
  id (`id_column`) is an event's identity wherever it sits: positions do not judge it. A row inserted
  before others shifts them, but their old keys are still in the input, so it is new, not changed.
  Whether a key is "no longer in the input" is known only once the whole input is read: in a streamed
  input (a batch at a time, `final=False`) a row whose earlier key has not been read yet (rows
  prepended to a big export push the rows they displaced into later batches) is `deferred`, and
  `settle_deferred` decides it after the last batch.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
import polars as pl

from adrop_kit.io.frames import BAD, ERROR, RAW, ROW, to_payloads
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.io.numbers import NumberToken
from adrop_kit.io.parts import STDIN, Inputs, is_paths
from adrop_kit.send.outcome import EventOutcome, Outcome
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import Rule

_EVENT_CODE = "__ev"  # the event code `check_batch` adds (validate.checks.EVENT_CODE)
_WHY = {"row": pl.Int64, "eventName": pl.String, "why": pl.String}


@dataclass
class Job:
    """One event to send: its row, its journal key, its body, and the attempts earlier runs spent."""

    index: int
    row: int
    key: str
    event_name: str | None
    body: bytes
    attempts_before: int = 0
    source: str | None = None  # the part file, when the input has several
    body_hash: str | None = None  # the hash of the body's canonical JSON (`Identity`)
    earlier: tuple[str, ...] | None = None  # deferred: keys delivered at its position, not read yet
    who: tuple[Any, Any] = (None, None)  # its uid and eventName, hashed (`subject`) only when asked

    @property
    def subject(self) -> str:
        """Whose event, of what kind (`subject`): an edit keeps it, another event in its place does not."""
        return subject(*self.who)


class Resume(Protocol):
    """What earlier runs settled: `known(jobs)` maps the key of each job an earlier run delivered
    or had rejected to (`Outcome` value, attempts spent); the others are absent (to be sent)."""

    label: str
    """How a report names it ("journal", "previous")."""

    def known(self, jobs: Sequence[Job]) -> Mapping[str, tuple[str, int]]: ...

    def delivered_at(self, jobs: Sequence[Job]) -> Mapping[str, list[tuple[str, str | None, str | None]]]:
        """For each job whose position (`source`, `row`) an earlier run delivered under another key:
        its key → [(that key, that body's hash, that event's `subject`; either None when not known)]."""
        ...


def canonical(payload: Any) -> bytes:
    """A payload's canonical JSON (keys sorted, compact): what its identity hashes."""
    try:  # a number kept as written counts by its value: the keys earlier runs wrote stay the same
        return orjson.dumps(payload, default=_as_float, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, lone surrogates: exact, still canonical
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True, ensure_ascii=True,
                          default=str).encode()


def _as_float(value: Any) -> float:
    if isinstance(value, NumberToken):
        return float.__float__(value)
    raise TypeError


def subject(uid: Any, event_name: Any) -> str:
    """Whose event, of what kind: a hash of its uid and eventName. A row edited in place keeps it (a
    changed price, a fixed currency); another event put in its place (the file replaced by the next
    day's export) has another, and is new, not changed."""
    text = f"{uid}\0{event_name}" if isinstance(uid, str) and isinstance(event_name, str) else \
        json.dumps([uid, event_name], default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def legacy_key(canon: bytes, row: int, source: str | None = None) -> str:
    """The key earlier adrop-kit versions wrote (content and position hashed together): read from old journals."""
    where = str(row).encode() if source is None else str(row).encode() + b"@" + source.encode("utf-8", "replace")
    return hashlib.sha256(canon + b"#" + where).hexdigest()[:32]


class Identity:
    """The keys of one input's events, across its batches (see the module docstring). Holds one
    small entry per distinct event (or id) of the input, to count occurrences."""

    def __init__(self, id_column: str | None = None):
        self.id_column = id_column
        self._seen: dict[bytes, int] = {}

    def assign(self, canon: bytes, event_id: Any = None) -> tuple[str, str, int]:
        """(key, body hash, occurrence: 0 the first time this event, or this id, is seen)."""
        digest = hashlib.sha256(canon).digest()[:16]
        if event_id is not None:
            text = event_id if isinstance(event_id, str) else json.dumps(event_id, sort_keys=True, default=str)
            ident = hashlib.sha256(b"id\0" + text.encode("utf-8", "surrogatepass")).digest()[:16]
            n = self._seen.get(ident, 0)
            self._seen[ident] = n + 1
            return "id:" + ident.hex(), digest.hex(), n
        n = self._seen.get(digest, 0)
        self._seen[digest] = n + 1
        return (digest.hex() if n == 0 else f"{digest.hex()}.{n}"), digest.hex(), n

    def present(self, key: str) -> bool:
        """Whether the event `key` names is among the rows read so far (ids included)."""
        hexed, _, occ = key.removeprefix("id:").partition(".")
        try:
            digest, n = bytes.fromhex(hexed), int(occ or 0)
        except ValueError:
            return False
        return self._seen.get(digest, 0) > n


def input_identity(data: Any) -> str:
    """What identifies an input, for its default journal: the resolved absolute path of a file, a
    directory or a glob pattern (links followed, `~` expanded); of several, each, sorted; `stdin` for
    `-`; `data` for rows in memory (a frame, a list of events). The same file sent again (moved
    rows, appended rows, another cwd) is the same input; a copy under another name is another."""
    if not is_paths(data):
        return "data"
    if isinstance(data, Inputs):  # resolved already (the CLI): the paths as they were given
        data = data.given or [STDIN if p.path is None else str(p.path) for p in data.parts]
    items = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    names = sorted("stdin" if str(p) == STDIN else os.path.realpath(Path(p).expanduser()) for p in items)
    return "paths:" + "\n".join(names)


@dataclass
class BatchPlan:
    """A batch's rows by job: `settled` (their outcome is known without sending), `jobs` (to send),
    and, in a dry run, `would_send` (the jobs a real run would have sent, for the preview)."""

    settled: list[EventOutcome] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    would_send: list[Job] = field(default_factory=list)
    custom: dict[str, int] = field(default_factory=dict)
    """The rows that go out as custom events (W101, or W110 not held; neither skipped nor held), by eventName."""
    deferred: list[Job] = field(default_factory=list)
    """Rows that may be changed since delivered, undecided until the whole input is read (`final=False`):
    their position was delivered under a key not read yet. `settle_deferred` decides them."""


def plan_batch(df: pl.DataFrame, violations: pl.DataFrame, *, catalog: Catalog, extra_columns: Sequence[str],
               hold: frozenset[str] | bool = frozenset(), source: str | None = None, resume: Resume | None = None,
               dry_run: bool = False, identity: Identity | None = None, resend_changed: bool = False,
               final: bool = True) -> BatchPlan:
    """Each row of a checked batch (`df`, the canonical frame; `violations`, every rule's findings on
    it, W107 included when held) planned: see the module docstring. `source` names the rows' file
    when the input has several (with the row, their position); `hold` is `report.hold_rules`'s;
    `identity`: the input's (one per send, across its batches; a new one when None); `final`: the
    identity has read the whole input (False for a batch of a streamed one: see `BatchPlan.deferred`)."""
    identity = identity if identity is not None else Identity()
    plan = BatchPlan()
    ok = df
    if violations.height:  # (most batches of tiny part files have none: no plan to build)
        skipped = reasons(violations.filter(pl.col("severity") == "error"))
        bad = skipped.get_column("row")
        held = (reasons(held_warnings(violations, hold).filter(~pl.col("row").is_in(bad.implode()))) if hold
                else pl.DataFrame(schema=_WHY))
        plan.custom = custom_events(violations, pl.concat([bad, held.get_column("row")]))
        for outcome, rows in ((Outcome.SKIPPED, skipped), (Outcome.HELD, held)):
            plan.settled += [EventOutcome(r, ev, None, outcome, None, 0, why, source)
                             for r, ev, why in rows.iter_rows()]
        ok = df.filter(~pl.col(ROW).is_in(pl.concat([bad, held.get_column("row")]).implode()))
    drop = [c for c in ok.columns if c in (ERROR, RAW, _EVENT_CODE)
            or (c.startswith(BAD) and ok.get_column(c).null_count() == ok.height)]
    id_col = identity.id_column
    hidden_id = id_col is not None and (id_col in extra_columns or id_col.startswith("_"))  # metadata: not sent
    jobs: list[Job] = []
    canons: list[bytes] = []
    for row, p in to_payloads(ok.drop(drop), catalog, extra_columns=extra_columns,
                              keep=(id_col,) if hidden_id else ()):
        event_id = (p.pop(id_col, None) if hidden_id else p.get(id_col)) if id_col is not None else None
        canon = canonical(p)
        key, body_hash, n = identity.assign(canon, event_id)
        name = p.get("eventName") if isinstance(p.get("eventName"), str) else None
        if event_id is not None and n:
            plan.settled.append(EventOutcome(row, name, key, Outcome.SKIPPED, None, 0,
                                             f"the same {id_col} as an earlier row: one event, sent once", source))
            continue
        jobs.append(Job(len(jobs), row, key, name, dumps_payload(p), source=source, body_hash=body_hash,
                        who=(p.get("uid"), p.get("eventName"))))
        canons.append(canon)
    known = dict(resume.known(jobs)) if resume is not None and jobs else {}
    bodies = getattr(resume, "delivered_bodies", None)  # a Resume may not keep the body delivered
    by_id = [j for j in jobs if j.key.startswith("id:") and known.get(j.key, ("",))[0] == Outcome.DELIVERED]
    if bodies is not None and by_id:
        hashes = {j.key: j.body_hash for j in by_id}
        for key, body in bodies(by_id).items():
            if body != hashes[key]:  # the same event id, delivered with another content
                known[key] = (Outcome.CHANGED.value, 0) if not resend_changed else (None, known[key][1])
    unknown = [(j, c) for j, c in zip(jobs, canons, strict=True) if j.key not in known]
    where = getattr(resume, "delivered_at", None)  # a Resume may know keys only
    moved = where([j for j, _ in unknown]) if where is not None and unknown else {}
    for j, canon in unknown:
        earlier = moved.get(j.key, ())
        if any(body is None and legacy_key(canon, j.row, j.source) == key for key, body, _ in earlier):
            known[j.key] = (Outcome.DELIVERED.value, 0)  # a journal of an earlier adrop-kit: same row, same body
        elif not resend_changed and not j.key.startswith("id:") and (gone := tuple(
                key for key, _, who in earlier if who in (None, j.subject) and not identity.present(key))):
            if final:
                known[j.key] = (Outcome.CHANGED.value, 0)
            else:  # its earlier event may still come in a later batch: decided at the end of the input
                j.earlier = gone
                plan.deferred.append(j)
    _settle(plan, [j for j in jobs if j.earlier is None], known, resume, dry_run, source)
    return plan


def settle_deferred(deferred: Sequence[Job], identity: Identity, *, resume: Resume,
                    dry_run: bool = False) -> BatchPlan:
    """The `deferred` rows of a streamed input's batches (all of one source), once the whole input is read:
    a row whose earlier key is still nowhere in the input is changed since delivered; the others (their
    earlier event only moved further down) are new, to send."""
    plan = BatchPlan()
    known = {j.key: (Outcome.CHANGED.value, 0) for j in deferred
             if any(not identity.present(key) for key in j.earlier or ())}
    _settle(plan, list(deferred), known, resume, dry_run, deferred[0].source if deferred else None)
    return plan


def _settle(plan: BatchPlan, jobs: Sequence[Job], known: Mapping[str, tuple[str, int]], resume: Resume | None,
            dry_run: bool, source: str | None) -> None:
    """Each of `jobs` into `plan`: settled by what `known` says of its key, else to send (a dry run's preview)."""
    label = getattr(resume, "label", "journal")
    for j in jobs:
        status, attempts = known.get(j.key, (None, 0))
        if status == Outcome.DELIVERED:
            plan.settled.append(EventOutcome(j.row, j.event_name, j.key, Outcome.ALREADY_DELIVERED, None, attempts,
                                             None, source))
        elif status == Outcome.REJECTED:
            plan.settled.append(EventOutcome(j.row, j.event_name, j.key, Outcome.REJECTED, None, attempts,
                                             f"rejected in an earlier run ({label})", source))
        elif status == Outcome.CHANGED:
            what = "this event (its id)" if j.key.startswith("id:") else "this position"
            plan.settled.append(EventOutcome(
                j.row, j.event_name, j.key, Outcome.CHANGED, None, 0,
                f"changed since delivered: {what} was delivered with another body ({label}); "
                "resend_changed=True (--resend-changed) sends it", source))
        elif dry_run:
            plan.would_send.append(j)
            plan.settled.append(EventOutcome(j.row, j.event_name, j.key, Outcome.DRY_RUN, None, 0, None, source))
        else:
            j.attempts_before = attempts
            j.index = len(plan.jobs)
            plan.jobs.append(j)


def custom_events(violations: pl.DataFrame, kept: pl.Series) -> dict[str, int]:
    """Rows by eventName of a batch's W101 and W110 warnings whose row is not in `kept` (skipped or held
    rows): the events that go out as custom events."""
    w101 = violations.filter(pl.col("rule").is_in([Rule.W101.value, Rule.W110.value])
                             & (pl.col("severity") == "warning")
                             & ~pl.col("row").is_in(kept.implode()))
    if not w101.height:
        return {}
    return dict(w101.group_by("eventName").agg(pl.col("row").n_unique()).iter_rows())


def reasons(violations: pl.DataFrame) -> pl.DataFrame:
    """(row, eventName, why) for each row of `violations`, in their order: every rule, field and
    message of the row joined by "; " (why a row was skipped or held back)."""
    field_ = pl.when(pl.col("field") == "").then(pl.lit("")).otherwise(pl.lit(" ") + pl.col("field"))
    why = pl.concat_str(pl.col("rule"), field_, pl.lit(": "), pl.col("message"))
    return violations.group_by("row", maintain_order=True).agg(pl.col("eventName").first(),
                                                               why.str.join("; ").alias("why"))


def held_warnings(violations: pl.DataFrame, hold: Any) -> pl.DataFrame:
    """The warnings among `violations` that `hold` (`hold_rules`: True, or rule ids) keeps back."""
    warned = violations.filter(pl.col("severity") == "warning")
    return warned if hold is True else warned.filter(pl.col("rule").is_in(sorted(hold)))


def unreadable(df: pl.DataFrame) -> pl.DataFrame:
    """The E001 violations of a batch that is not validated (`validate=False`): its rows that are no
    JSON object or too big to send (the server would answer 400 or 413), nothing else."""
    return df.filter(pl.col(ERROR).is_not_null()).select(
        pl.col(ROW).alias("row"), pl.lit(None, pl.String).alias("eventName"), pl.lit("E001").alias("rule"),
        pl.lit("error").alias("severity"), pl.lit("").alias("field"), pl.col(ERROR).alias("message"))


__all__ = ["BatchPlan", "Identity", "Job", "Resume", "canonical", "custom_events", "held_warnings", "input_identity",
           "legacy_key", "plan_batch", "reasons", "settle_deferred", "subject", "unreadable"]
