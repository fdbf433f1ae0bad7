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
import sys
from pathlib import Path

from adrop_kit.cli import exits, export, fuzz, importing, lab, net, validate
from adrop_kit.cli.common import PROG, Fail, silence_stdout
from adrop_kit.errors import AdropError
from adrop_kit.spec.version import __version__


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    few_heaps()
    try:
        try:
            args = _parse(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else exits.USAGE
        code = args.run(args)
        sys.stdout.flush()  # surface a broken pipe here, not at interpreter exit
        return code
    except Fail as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exits.USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return exits.BROKEN_PIPE
    except (OSError, ValueError, AdropError) as exc:  # a bad setting or an unusable file we did not foresee
        print(f"{PROG}: error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return exits.USAGE


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
