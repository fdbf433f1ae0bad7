"""The `adrop-kit` command: `main(argv) -> int`, a thin shell over the Python API.

    adrop-kit validate | catalog | sample | rules     (cli/validate.py)
    adrop-kit import ga4 | segment                    (cli/importing.py)
    adrop-kit send | demo | serve                     (cli/net.py)
    adrop-kit fuzz                                    (cli/fuzz.py)
    adrop-kit export jsonschema | openapi             (cli/export.py)
    adrop-kit lab                                     (cli/lab.py)

Exit codes are in cli/exits.py. Heavy modules (polars, the dataset validator, the sample
writer, the server) are imported inside the subcommand that needs them, so `adrop-kit --help`
stays fast.
"""

from __future__ import annotations

import argparse
import ctypes
import difflib
import os
import sys
from pathlib import Path

from adrop_kit.cli import exits, export, fuzz, importing, lab, net, validate
from adrop_kit.cli.common import PROG, Fail, silence_stdout
from adrop_kit.errors import AdropError
from adrop_kit.send.redact import redact
from adrop_kit.send.transport import KEY_ENV
from adrop_kit.spec.version import __version__
from adrop_kit.support.labels import escape


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    few_heaps()
    if sys.stderr is None:  # started with `2>&-`: errors go nowhere, but the run may still be useful
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    if sys.stdout is None:  # started with `>&-`: no report could be shown
        print(f"{PROG}: error: standard output is closed; nothing could be shown", file=sys.stderr)
        return exits.USAGE
    try:
        try:
            args = _parse(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else exits.USAGE
        code = args.run(args)
        sys.stdout.flush()  # surface a broken pipe here, not at interpreter exit
        return code
    except Fail as exc:
        _error(str(exc))
        return exits.USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return exits.BROKEN_PIPE
    except (OSError, ValueError, AdropError) as exc:  # a bad setting or an unusable file we did not foresee
        _error(str(exc) or type(exc).__name__)
        return exits.USAGE
    except (Exception, RecursionError, MemoryError) as exc:  # a bug: still one line (ADROP_KIT_DEBUG=1 shows it all)
        if os.environ.get(DEBUG_ENV):
            raise
        _error(f"internal error ({type(exc).__name__}: {exc}); please report it (set {DEBUG_ENV}=1 for the "
               "traceback)")
        return exits.USAGE


DEBUG_ENV = "ADROP_KIT_DEBUG"


def _error(text: str) -> None:
    """`adrop-kit: error: …` on one line of stderr: whitespace folded, names escaped, the key redacted."""
    clean = " ".join((redact(text, os.environ.get(KEY_ENV)) or "").split())
    print(f"{PROG}: error: {escape(clean)}", file=sys.stderr)


def few_heaps(limit: int = 2) -> None:
    """Cap glibc's malloc at `limit` heaps (arenas). By default each thread that allocates may get a
    heap of its own, up to 8 per core, and a heap keeps what was freed in it: a streamed run's
    resident size crept up batch after batch until every heap had held a batch (measured on 6M
    JSONL rows: validate 981 MB, 2 heaps ~620 MB), at no measurable cost in time. The CLI owns its
    process, so it sets this; the Python API leaves the host's allocator alone. Not glibc: nothing."""
    try:
        ctypes.CDLL(None).mallopt(-8, limit)  # M_ARENA_MAX
    except (OSError, AttributeError, TypeError):
        pass


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse `argv`; an unknown option is reported with the usage of its subcommand, not the top level's."""
    parser, commands = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = commands[args.command]
        known = [o for action in command._actions for o in action.option_strings]  # noqa: SLF001 - argparse's own list
        hints = [f"{e}: did you mean {m[0]}?" for e in extra if e.startswith("--")
                 and (m := difflib.get_close_matches(e.split("=", 1)[0], known, n=1))]
        command.error(f"unrecognized arguments: {' '.join(extra)}" + (f" ({'; '.join(hints)})" if hints else ""))
    return args


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Check event data against Adrop's event contract before it is sent to POST /event.",
        epilog="Exit codes: 0 all good (warnings allowed), 1 invalid or rejected rows, 2 usage or input problem, "
               "3 delivery failed after retries.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = {"choices": ("table", "json"), "default": "table", "help": "output format (default: table)"}
    plan = {"metavar": "FILE", "type": Path, "help": "tracking plan (.toml or .json) with custom events or parameters"}
    for group in (validate, importing, net, fuzz, export, lab):
        group.add_parsers(sub, fmt=fmt, plan=plan)
    return p, sub.choices


__all__ = ["main"]
