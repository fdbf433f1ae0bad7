"""`adrop-kit fuzz`: the contract probe, a thin shell over `adrop_kit.testing.contract`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from adrop_kit.cli import exits
from adrop_kit.cli.argtypes import count, positive
from adrop_kit.cli.common import PROG, Fail, Style, add_retry_arguments, load_catalog, out, retry_policy
from adrop_kit.errors import AdropError
from adrop_kit.send.transport import KEY_ENV
from adrop_kit.support.progress import progress_bar

CELL_OK, CELL_NONE = "{n}", "·"


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    from adrop_kit.testing.contract import MAX_SHRINK_REQUESTS, PROBE_RETRY, REMOTE_RATE, UID_PREFIX

    f = sub.add_parser(
        "fuzz", help="find where an endpoint's verdicts differ from the documented contract",
        description="Draw valid and invalid payloads for every event and rule, send them, and compare the endpoint's "
                    "verdict with adrop_kit's. Each disagreement is shrunk to a minimal payload and printed with a "
                    "curl command. Without --endpoint an embedded local server is probed (no account needed).",
        epilog=f"The key is read from {KEY_ENV}. To a non-loopback host: at most {REMOTE_RATE:g} events/s unless "
               "--rate, and payloads the contract accepts are sent only with --yes. Exit codes: 0 all agreed, "
               "1 disagreements, 2 usage problem, 3 the endpoint could not be reached (after retries).")
    f.add_argument("--endpoint", metavar="URL", help="the endpoint to probe, e.g. https://api-v2.adrop.io/event "
                                                     "(default: an embedded local server)")
    f.add_argument("--examples", metavar="N", type=count, default=100,
                   help="payloads in all, shared over every event/rule pair, at least one each (default: 100)")
    f.add_argument("--events", metavar="NAMES", action="append",
                   help="only these events (comma-separated, repeatable; default: all)")
    f.add_argument("--rules", metavar="IDS", action="append",
                   help="only these rules for invalid payloads (comma-separated, e.g. E005,W102; default: all)")
    f.add_argument("--invalid-only", action="store_true",
                   help="send only payloads the contract rejects (no valid events, no warnings)")
    f.add_argument("--seed", metavar="S", type=int, default=None, help="reproduce a run (default: a random seed, "
                                                                       "printed)")
    f.add_argument("--plan", **plan)
    f.add_argument("--strict", action="store_true", help="expect events outside the catalog to be rejected")
    f.add_argument("--rate", metavar="R", type=positive, default=None,
                   help=f"at most R requests/s (default: unlimited on loopback, {REMOTE_RATE:g} elsewhere)")
    f.add_argument("--yes", action="store_true",
                   help="allow sending payloads the contract accepts to a non-loopback host (stored as real events)")
    f.add_argument("--no-shrink", action="store_true", help="report the first disagreeing payload as drawn")
    f.add_argument("--max-shrink", metavar="N", type=count, default=MAX_SHRINK_REQUESTS,
                   help=f"requests at most to shrink one disagreement (default: {MAX_SHRINK_REQUESTS})")
    f.add_argument("--uid-prefix", metavar="P", default=UID_PREFIX,
                   help=f"every uid starts with P so fuzz traffic can be found (default: {UID_PREFIX})")
    add_retry_arguments(f, PROBE_RETRY)
    f.add_argument("--server-plan", metavar="FILE", type=Path,
                   help="without --endpoint: the embedded server's tracking plan (to see what a disagreement "
                        "looks like)")
    f.add_argument("--server-strict", action="store_true", help="without --endpoint: the embedded server is strict")
    f.add_argument("--format", **fmt)
    f.set_defaults(run=cmd_fuzz)


def cmd_fuzz(args: argparse.Namespace) -> int:
    from adrop_kit.server import LocalServer
    from adrop_kit.spec.rules import STRICT_RULES, Rule
    from adrop_kit.testing.contract import ContractRun

    catalog = load_catalog(args.plan)
    if args.endpoint is not None and (args.server_plan is not None or args.server_strict):
        raise Fail("--server-plan and --server-strict configure the embedded server; they cannot go with --endpoint")
    server = None
    if args.endpoint is None:
        server = LocalServer(catalog=load_catalog(args.server_plan) if args.server_plan else catalog,
                             strict=args.server_strict)
    rules = args.rules
    if args.invalid_only and rules is None:
        rules = [r.value for r in Rule if r.severity == "error" or (args.strict and r in STRICT_RULES)]
    try:
        run = ContractRun(server if server is not None else args.endpoint, catalog=catalog, strict=args.strict,
                          events=args.events, rules=_split(rules), examples=args.examples, seed=args.seed,
                          valid=not args.invalid_only, rate=args.rate, uid_prefix=args.uid_prefix,
                          shrink=not args.no_shrink, max_shrink_requests=args.max_shrink, yes=args.yes,
                          retry=retry_policy(args))
    except (AdropError, ValueError, TypeError) as exc:
        if server is not None:
            server.close()
        raise Fail(str(exc)) from None
    try:  # an embedded server runs in process (no socket): the run opens it on its first request
        bar = progress_bar(run.planned, None if args.format == "table" else False, unit="req", desc="probing",
                           leave=False)
        try:
            report = run.run(on_result=(lambda _: bar.update(1)) if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
    finally:
        if server is not None:
            server.close()
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print(report, run, args, server)
    return exits.for_contract(report)


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _print(report: Any, run: Any, args: argparse.Namespace, server: Any) -> None:
    from adrop_kit.testing.strategies import INVALID_RULES

    st = Style.for_stdout()
    t = report.totals()
    where = (f"embedded local server, in process{', strict' if args.server_strict else ''}"
             + (f", plan {args.server_plan}" if args.server_plan else "") if server is not None
             else "loopback" if run.endpoint.is_local else f"remote, at most {run.rate:g} requests/s")
    out(f"{st.bold(f'{PROG} fuzz')} → {report.endpoint} ({where})")
    out(f"catalog {report.catalog}{', strict' if report.strict else ''}; seed {report.seed}; "
         f"{t['sent']:,} payloads over {t['pairs']:,} event/rule pairs, {t['requests']:,} requests in "
         f"{t['elapsed_s']:.1f} s; uids start with {run.uid_prefix!r}")
    out("")

    cells: dict[tuple[str, str | None], str] = {}
    for s in report.summary():
        if s["sent"]:
            cells[(s["event"], s["rule"])] = f"✗{s['disagreed']}/{s['sent']}" if s["disagreed"] else str(s["agreed"])
    rules = [None, *(r for r in INVALID_RULES if any(p[1] == r for p in report.pairs))]
    events = list(dict.fromkeys(e for e, _ in report.pairs))
    header = ["event", *(r or "valid" for r in rules)]
    rows = [[e, *(cells.get((e, r), CELL_NONE) for r in rules)] for e in events]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    out(st.dim("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()))
    for row in rows:
        parts = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        out("  ".join(st.red(p) if p.startswith("✗") else p for p in parts).rstrip())
    out(st.dim(f"cells: payloads agreed on; ✗k/n: k of n disagreed; {CELL_NONE}: not drawn "
                "(the event cannot break that rule, or it was not asked for)"))

    if report.disagreements:
        out("")
        out(st.bold(f"{len(report.disagreements)} disagreement{'s' if len(report.disagreements) != 1 else ''}"
                     + (" (minimal payloads, shrunk with hypothesis)" if not args.no_shrink else "")))
        for i, d in enumerate(report.disagreements, 1):
            out(f"{i}. {d.describe()}")
            if not d.shrunk:
                how = "as first drawn, not shrunk"
            elif d.payload == d.original:
                how = "minimal as first drawn"
            else:
                how = f"shrunk with {d.shrink_requests} more request{'s' if d.shrink_requests != 1 else ''}"
            out(f"   payload ({how}): {d.body}")
            out(f"   {d.curl}")
        out(st.dim(f"   (the key is masked as {run.masked_key}: put yours in its place)"))
        if server is not None:
            out(st.dim(f"   (the embedded server ran in process, with no socket: to replay, start `{PROG} serve` "
                       "with the same rules and put its URL in place)"))
    out("")
    if report.error:
        out(st.red(f"Stopped: {report.error}."))
    elif report.disagreements:
        out(st.red(f"The endpoint disagrees with the documented contract on {len(report.disagreements)} of "
                    f"{t['pairs']} event/rule pairs. Re-run with --seed {report.seed} to reproduce."))
    else:
        out(st.green(f"The endpoint agreed with adrop_kit on all {t['sent']:,} payloads."))
