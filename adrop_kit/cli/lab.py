"""`adrop-kit lab`: open the notebooks in JupyterLab, bound to 127.0.0.1."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

from adrop_kit.cli import exits
from adrop_kit.cli.argtypes import port

INSTALL_HINT = "pip install 'adrop-kit[notebooks]'"


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    p = sub.add_parser("lab", help="open the notebooks in JupyterLab (on 127.0.0.1 only)",
                       description="Start JupyterLab on the notebooks folder, listening on 127.0.0.1 only. "
                                   "The notebooks start a local Adrop-compatible server themselves: no key needed.")
    p.add_argument("--port", type=port, default=8888, help="default: 8888 (the next free one if taken)")
    p.add_argument("--dir", metavar="DIR", type=Path, default=None,
                   help="notebook folder (default: ./notebooks, else the one next to the package)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(run=cmd_lab)


def notebooks_dir(explicit: Path | None = None) -> Path | None:
    """The folder to open: `explicit`, else ./notebooks, else the repository's notebooks/ (editable installs)."""
    candidates = [explicit] if explicit is not None else [
        Path.cwd() / "notebooks", Path(__file__).resolve().parents[2] / "notebooks"]
    return next((p for p in candidates if p.is_dir()), None)


def lab_command(folder: Path, port: int, *, open_browser: bool = True) -> list[str]:
    """The command that runs JupyterLab with this interpreter, loopback only."""
    cmd = [sys.executable, "-m", "jupyterlab", "--ip=127.0.0.1", f"--port={port}", str(folder)]
    if not open_browser:
        cmd.insert(-1, "--no-browser")
    return cmd


def cmd_lab(args: argparse.Namespace) -> int:
    from adrop_kit.cli.common import PROG

    if importlib.util.find_spec("jupyterlab") is None:
        print(f"{PROG}: error: JupyterLab is not installed; {INSTALL_HINT} (or run `make lab`)", file=sys.stderr)
        return exits.USAGE
    folder = notebooks_dir(args.dir)
    if folder is None:
        where = args.dir if args.dir is not None else "./notebooks"
        print(f"{PROG}: error: {where}: no such notebook folder (use --dir)", file=sys.stderr)
        return exits.USAGE
    print(f"Starting JupyterLab on {folder} at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", file=sys.stderr)
    return subprocess.call(lab_command(folder, args.port, open_browser=not args.no_browser))
