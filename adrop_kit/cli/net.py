"""`adrop-kit send`, `demo` and `serve`: the network half of the CLI."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adrop_kit.cli import exits
from adrop_kit.cli.argtypes import at_least_one, count, fraction, non_negative, port, positive, warning_rules
from adrop_kit.cli.common import (
    PROG,
    Fail,
    Style,
    add_delimiter_argument,
    add_input_arguments,
    add_mapping_argument,
    add_meta_columns_argument,
    add_retry_arguments,
    checked_mapping,
    input_of,
    load_catalog,
    meta_columns,
    one_line,
    or_,
    out,
    print_not_read,
    retry_policy,
    table,
)
from adrop_kit.cli.validate import SAMPLE_SUFFIXES, print_report
from adrop_kit.errors import AdropError, InvalidEvents, JournalError, MissingKey
from adrop_kit.send.outcome import Outcome
from adrop_kit.send.retry import RetryPolicy
from adrop_kit.send.transport import DEFAULT_ENDPOINT, KEY_ENV, resolve_key


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    s = sub.add_parser("send", help="validate a dataset and deliver its valid rows to Adrop (or the local server)",
                       description=f"Validate, then send every valid row. The app key is read from {KEY_ENV}.",
                       epilog="Exit codes: 0 every valid row delivered (now or earlier; rows held back by "
                              "--hold-warnings do not count), 1 invalid or rejected rows, "
                              "2 usage or input problem (including a missing key), 3 delivery failed after retries.")
    s.add_argument("path", metavar="PATH", nargs="+",
                   help="the dataset: a file (.gz/.zst for text), a directory of part files, a quoted glob, "
                        "several of these, or - for JSONL on standard input; read, checked and sent batch by batch")
    s.add_argument("--endpoint", metavar="URL", default=DEFAULT_ENDPOINT, help=f"default: {DEFAULT_ENDPOINT}")
    s.add_argument("--concurrency", metavar="N", type=at_least_one, default=8,
                   help="requests in flight, 1 or more (default: 8)")
    s.add_argument("--rate", metavar="R", type=positive, default=None, help="at most R events per second")
    add_retry_arguments(s, RetryPolicy())
    kept = s.add_mutually_exclusive_group()
    kept.add_argument("--journal", metavar="FILE", type=Path,
                      help="the SQLite delivery journal to use (default: one per endpoint and input under the "
                           "user's state directory, or $ADROP_KIT_STATE_DIR): a re-run skips what was delivered "
                           "and retries what failed")
    kept.add_argument("--no-journal", action="store_true",
                      help="keep no journal: a re-run sends everything again")
    s.add_argument("--id-column", metavar="COL",
                   help="a column holding an event id the export already has: the event's identity across runs "
                        "(not sent unless it is an event field); without it, an event is its body and its "
                        "occurrence among identical bodies")
    s.add_argument("--resend-changed", action="store_true",
                   help="send rows whose position was delivered earlier with another body (listed as changed "
                        "since delivered, not sent, without this flag)")
    s.add_argument("--max-invalid-rate", metavar="R", type=fraction, default=None,
                   help="validate the whole input first and send nothing (exit 1) when more than this share "
                        "of rows (0 to 1) is invalid")
    s.add_argument("--quarantine", metavar="FILE", type=Path,
                   help="write every row not sent (invalid, held, changed, rejected, failed, not attempted) to FILE "
                        "(.parquet, .jsonl or .csv) in your own columns, with _adrop_outcome and _adrop_why: fix "
                        "it and send it again")
    s.add_argument("--dry-run", action="store_true", help="do everything but the network call; show the requests")
    s.add_argument("--plan", **plan)
    s.add_argument("--strict", action="store_true", help="events outside the catalog are errors")
    add_meta_columns_argument(s)
    add_delimiter_argument(s)
    add_mapping_argument(s)
    add_input_arguments(s)
    s.add_argument("--hold-warnings", metavar="RULES", nargs="?", const="all", type=warning_rules, default=None,
                   help="keep back (do not send) valid rows that carry a warning: any warning (the flag alone, or "
                        "'all'), only the rule ids listed (W110,W107), or none ('none'). Default: W110, the near "
                        "misses of a catalog event (Purchase, add-to-cart). Held rows are counted and named, never "
                        "journaled (a run that does not hold them sends them), and do not change the exit code")
    s.add_argument("--outcomes-out", metavar="FILE", type=Path,
                   help="write every row's outcome to FILE (.parquet, .jsonl or .csv) as the send goes; the "
                        "report counts every outcome but lists only the rows needing attention, not the delivered")
    s.add_argument("--format", **fmt)
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(run=cmd_send)

    d = sub.add_parser("demo", help="the whole flow on a sample: generate, validate, serve locally, send",
                       description="Generate a sample dataset with deliberate mistakes, validate it, start the local "
                                   "server and send the valid rows to it. No account, key or network needed.")
    d.add_argument("--rows", metavar="N", type=count, default=5000, help="sample size (default: 5000)")
    d.add_argument("--seed", metavar="S", type=int, default=7, help="random seed (default: 7)")
    d.add_argument("--out", metavar="FILE", type=Path, default=Path("sample/events.jsonl"),
                   help="where the sample goes (default: sample/events.jsonl)")
    d.set_defaults(run=cmd_demo)

    v = sub.add_parser("serve", help="run the local Adrop-compatible server (loopback, SQLite, fault injection)",
                       description="A local stand-in for Adrop's POST /event: same rules, real HTTP.")
    v.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1, loopback only)")
    v.add_argument("--port", type=port, default=8787, help="default: 8787 (0 = any free port)")
    v.add_argument("--app-key", metavar="KEY", action="append", default=[],
                   help=f"accepted key (repeatable); default: ${KEY_ENV}, else a generated one")
    v.add_argument("--db", metavar="FILE", default=":memory:", help="SQLite file (default: in memory)")
    v.add_argument("--plan", **plan)
    v.add_argument("--strict", action="store_true", help="events outside the catalog are rejected")
    v.add_argument("--fail-rate", metavar="F", type=fraction, default=0.0, help="share of requests answered 503")
    v.add_argument("--throttle-rate", metavar="F", type=fraction, default=0.0,
                   help="share answered 429 with Retry-After")
    v.add_argument("--drop-rate", metavar="F", type=fraction, default=0.0,
                   help="share whose connection is closed without a reply")
    v.add_argument("--latency", metavar="MS", type=non_negative, default=0.0, help="delay before each reply")
    v.add_argument("--retry-after", metavar="S", type=non_negative, default=1.0,
                   help="Retry-After of a 429 (default: 1)")
    v.add_argument("--seed", metavar="N", type=int, default=None, help="seed for reproducible faults")
    v.add_argument("--verbose", action="store_true", help="log every request to stderr")
    v.set_defaults(run=cmd_serve)


def cmd_send(args: argparse.Namespace) -> int:
    from adrop_kit.send.sender import Sender

    catalog = load_catalog(args.plan)
    paths: list[str] = args.path
    data = args.inputs = input_of(args)  # always paths, read once each; --skip-unreadable / --follow-links
    try:
        sender = Sender(endpoint=args.endpoint, concurrency=args.concurrency, rate=args.rate,
                        retry=retry_policy(args), dry_run=args.dry_run,
                        journal=False if args.no_journal else (args.journal or True),
                        id_column=args.id_column, resend_changed=args.resend_changed,
                        strict=args.strict, catalog=catalog, extra_columns=meta_columns(args),
                        hold_warnings=args.hold_warnings,  # None: the default (W110)
                        progress=False if args.no_progress else None)
    except MissingKey as exc:
        if "no app key" not in str(exc):  # a key with a bad character: the message says where
            raise Fail(str(exc)) from None
        raise Fail(f"no app key: set {KEY_ENV} in the environment (export {KEY_ENV}=...), or add --dry-run "
                   "to see the requests without sending") from None
    except (AdropError, ValueError) as exc:  # JournalError / JournalInUse too: they name the journal
        raise Fail(" ".join(str(exc).split())) from None
    with _terminate_as_interrupt() as term, sender:
        try:
            report = sender.send_all(data, stream=True, delimiter=args.delimiter, outcomes_out=args.outcomes_out,
                                     quarantine=args.quarantine, max_invalid_rate=args.max_invalid_rate,
                                     encoding=args.encoding, mapping=checked_mapping(args, sender.catalog))
        except JournalError as exc:
            raise Fail(" ".join(str(exc).split())) from None
        except InvalidEvents as exc:  # --max-invalid-rate: the data, not the usage
            print(f"{PROG}: {' '.join(str(exc).split())}", file=sys.stderr)
            return exits.INVALID
        except (AdropError, OSError, ValueError) as exc:
            raise Fail(one_line(" ".join(paths), exc)) from None
        finally:
            term.live = False  # closing the journal: a SIGTERM now is noted, not raised
    if args.format == "json":
        unread = {k: v for k in ("unread", "linked") if (v := getattr(args.inputs, k))}
        out(json.dumps(report.to_dict() | unread, ensure_ascii=False, default=str))
    else:
        _print_send(report, args)
    if report.interrupted:
        return exits.TERMINATED if term.came else exits.INTERRUPTED
    if report.journal_error:  # the report above says what was sent; the journal must be fixed first
        raise Fail(" ".join(report.journal_error.split()))
    return exits.for_send(report)


class _Terminate:
    """SIGTERM (`kill`, `timeout`, `docker stop`, a cancelled CI job) stops a send as Ctrl-C does: the
    requests in flight finish and are journaled, the report is printed, and the next run sends nothing
    twice. Only the first SIGTERM, and only while sending, interrupts; any other is noted and ignored, so
    the journal is closed in peace (SIGKILL is the way to cut a stop short)."""

    def __init__(self) -> None:
        self.came = False  # a SIGTERM came: the exit code is 143, not 130
        self.live = True  # sending: the first SIGTERM interrupts

    def __call__(self, _signum: int, _frame: Any) -> None:
        first, self.came = not self.came, True
        if first and self.live:
            raise KeyboardInterrupt


@contextmanager
def _terminate_as_interrupt() -> Iterator[_Terminate]:
    """`_Terminate` as the SIGTERM handler for the block (in the main thread; elsewhere signals cannot be caught)."""
    term = _Terminate()
    if threading.current_thread() is not threading.main_thread():
        yield term
        return
    previous = signal.signal(signal.SIGTERM, term)
    try:
        yield term
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_send(report: Any, args: argparse.Namespace, *, limit: int = 20) -> None:
    st = Style.for_stdout()
    s = report.summary()
    what = "would send" if report.dry_run else "sent"
    out(f"{st.bold(report.source)} → {report.endpoint}: {s['total']:,} rows, {what} in {s['elapsed_s']} s"
         + (f" ({s['events_per_s']:,} events/s)" if report.delivered + report.rejected + report.failed else ""))
    first = Outcome.DRY_RUN if report.dry_run else Outcome.DELIVERED  # shown even when 0
    for k in (first, Outcome.ALREADY_DELIVERED, Outcome.CHANGED, Outcome.REJECTED, Outcome.FAILED, Outcome.PENDING,
              Outcome.SKIPPED, Outcome.HELD):
        if k in s and (s[k] or k is first):
            out(f"  {k.replace('_', ' '):<18} {s[k]:>10,}")
    for note in getattr(report, "notes", ()):
        out(st.yellow(f"Note: {note}"))
    if getattr(args, "inputs", None) is not None:
        print_not_read(args.inputs, st)
    if s["retries"]:
        out(st.dim(f"  {s['retries']:,} retries spent; the longest wait between two attempts was "
                   f"{s['longest_wait_s']:g} s"))
    for note in report.event_notes():  # W110 held, W101 custom events: the names to look at
        out(st.yellow(f"  {note}"))
    if report.journal:
        out(st.dim(f"  journal: {report.journal}"))
    elif not report.dry_run:
        out(st.yellow("  no journal (--no-journal): a re-run sends everything again"))
    if report.quarantine:
        out(st.dim(f"  every row not sent, with why: {report.quarantine}"))
    if report.outcomes_out:
        out(st.dim(f"  every row's outcome: {report.outcomes_out}"))
    elif report.unlisted:
        out(st.dim(f"  {report.unlisted_note('--outcomes-out FILE')}"))
    if report.dry_run and report.requests:
        out("")
        out(st.bold(f"The first {len(report.requests)} requests (nothing was sent):"))
        for r in report.requests:
            out("  " + r.replace("\n", "\n  "))
            out("")
    problems = report.problems()
    if problems:
        out("")
        sourced = any(o.source for o in problems)
        rows = [((o.source or "",) if sourced else ()) + (o.row, o.eventName or "", o.outcome, o.status or "",
                                                          o.attempts, (o.error or "")[:90]) for o in problems[:limit]]
        head = ("source",) * sourced + ("row", "eventName", "outcome", "status", "attempts", "why")
        for line in table(head, rows, st, indent="  "):
            out(line)
        if len(problems) > limit:
            out(st.dim(f"… and {len(problems) - limit:,} more; use --format json for all"))
    if report.held:
        rules = ", ".join(report.held_rules())
        held = [(o.row, o.eventName or "", (o.error or "")[:90]) for o in report.outcomes
                if o.outcome is Outcome.HELD]
        out("")
        for line in table(("row", "eventName", "held back for"), held[:limit], st, indent="  "):
            out(line)
        if len(held) > limit:
            out(st.dim(f"… and {len(held) - limit:,} more; use --format json for all"))
        out(st.yellow(f"Held back {report.held:,} row{'' if report.held == 1 else 's'} with warnings {rules}; "
                      "re-run with --hold-warnings none to send them as they are."))
    out("")
    if report.aborted:
        out(st.red(f"Stopped: {report.aborted}."))
    if report.interrupted:
        unread = "" if report.read_all else " (and the input was not read to its end)"
        out(st.yellow(f"Interrupted: {report.pending:,} events not attempted{unread}"
                       + (f"; run the same command again to resume from {report.journal}." if report.journal else
                          "; without a journal a re-run sends everything again.")))
    elif report.journal_error:
        out(st.red(f"{report.failed + report.pending:,} events were not delivered; the journal could not be "
                   "written, so fix it (or use another) before running again."))
    elif report.failed or report.pending:
        out(st.red(f"{report.failed + report.pending:,} events were not delivered"
                    + (f"; run again to retry them (the journal {report.journal} skips what arrived)."
                       if report.journal else ".")))
    elif not report.dry_run and not (report.rejected or report.skipped):
        out(st.green("Every valid event was delivered" + (", but for those held back." if report.held else ".")))
    if report.changed:
        out(st.yellow(f"{report.changed:,} row{'' if report.changed == 1 else 's'} changed since delivered: not "
                      "sent again; --resend-changed sends them."))


def cmd_serve(args: argparse.Namespace) -> int:
    from adrop_kit.server import Faults, LocalServer, is_loopback

    catalog = load_catalog(args.plan)
    try:
        env_key = resolve_key(None, required=False)
    except AdropError as exc:
        raise Fail(str(exc)) from None
    keys = list(args.app_key) or ([env_key] if env_key else [])
    try:
        faults = Faults(fail_rate=args.fail_rate, throttle_rate=args.throttle_rate, drop_rate=args.drop_rate,
                        latency_ms=args.latency, retry_after=args.retry_after, seed=args.seed)
        srv = LocalServer(host=args.host, port=args.port, app_keys=keys, db=args.db, catalog=catalog,
                          strict=args.strict, faults=faults, verbose=args.verbose)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    except sqlite3.Error as exc:
        raise Fail(f"{args.db}: cannot open the event database: {exc}") from None
    if not is_loopback(args.host):
        print(f"WARNING: binding to {args.host}, not loopback: anyone who can reach this machine can send events "
              "to this test server.", file=sys.stderr)
    try:
        srv.bind()
    except OSError as exc:
        raise Fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(f"adrop-kit local server on {srv.endpoint}  (stats: {srv.url}/_local/stats)", flush=True)
    if srv.generated_key:
        print(f"accepted app key (generated for this run): {srv.app_key}", flush=True)
    else:
        print(f"accepting {len(srv.app_keys)} app key(s) from {'--app-key' if args.app_key else KEY_ENV}", flush=True)
    print(f"/_local/* needs an accepted app key or this admin token (this run only) in Authorization: "
          f"{srv.admin_token}", flush=True)
    try:
        srv.serve_forever()  # SIGINT/SIGTERM: stop accepting, finish in-flight requests, flush, return
    except KeyboardInterrupt:
        pass
    print("stopped: every acknowledged event is stored", file=sys.stderr)
    return exits.OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Sample → validate → local server → send → what the server stored."""
    from adrop_kit.explore.synth import write_sample
    from adrop_kit.send.sender import Sender
    from adrop_kit.testing.local import local_server, local_transport
    from adrop_kit.validate.dataset import validate_events

    st = Style.for_stdout()
    if args.out.suffix.lower() not in SAMPLE_SUFFIXES:
        raise Fail(f"{args.out}: the sample's format follows the suffix: {or_(SAMPLE_SUFFIXES)}")
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_sample(args.out, args.rows, seed=args.seed)
    except (OSError, ValueError) as exc:
        raise Fail(one_line(args.out, exc)) from None
    out(st.bold(f"1. A sample of {args.rows:,} events with deliberate mistakes: {args.out}"))
    out("")
    out(st.bold("2. Validate it"))
    report = validate_events(args.out)
    print_report(report, str(args.out), limit=10, strict=False, style=st)
    out("")
    with local_server() as srv:
        out(st.bold("3. Send the valid rows to the local server (the app `serve` runs, here in process)"))
        with Sender(srv.app_key, transport=local_transport(srv), concurrency=8, journal=False) as sender:
            sent = sender.send_all(args.out)
        args.path, args.journal, args.inputs = args.out, None, None
        _print_send(sent, args, limit=5)
        out("")
        stats = srv.stats()
        out(st.bold("4. What the server stored"))
        out(f"  {stats['good']:,} accepted events (uid stored as its SHA-256, as Adrop does); "
             f"{stats['bad']:,} rejected")
        for e in srv.events("good", limit=3):
            out(f"  #{e['id']} {e['eventName']:<14} uid_sha256={e['uid_sha256'][:16]}…")
        ok = stats["good"] == report.valid and sent.delivered == report.valid
    out("")
    out((st.green if ok else st.red)(
        f"Every one of the {report.valid:,} valid rows arrived; the {report.invalid:,} invalid ones never left."
        if ok else "Some valid rows did not arrive: see the send report above."))
    cli = _how_to_run()
    out(f"Next: `{cli} validate {args.out} --format json`, `{cli} serve`, `{cli} send --help`.")
    return exits.OK if ok else exits.DELIVERY


def _how_to_run() -> str:
    """How to type the command in this shell: `adrop-kit` when it is on PATH, else its path (e.g.
    `.venv/bin/adrop-kit` after `make demo`, whose venv is not activated)."""
    on_path = shutil.which(PROG)
    me = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if me is None or me.name != PROG or (on_path and Path(on_path).resolve() == me.resolve()):
        return PROG
    try:
        return str(me.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(me)
