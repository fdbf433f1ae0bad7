"""`adrop-kit lab`: open the notebooks in JupyterLab, bound to 127.0.0.1.

The committed notebooks (`notebooks/*.ipynb`, generated from their jupytext sources) are never
opened in place: running a notebook writes outputs and widget state into it, and autosave
would put them into tracked files. JupyterLab opens working copies in `./.adrop-lab/` instead
(copied once; `--fresh` copies them again). `--dir DIR` opens DIR itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from adrop_kit.cli import exits
from adrop_kit.cli.argtypes import port
from adrop_kit.cli.common import PROG

INSTALL_HINT = "pip install 'adrop-kit[notebooks]'"
WORK_DIR = ".adrop-lab"


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    p = sub.add_parser("lab", help="open the notebooks in JupyterLab (on 127.0.0.1 only)",
                       description="Start JupyterLab on working copies of the notebooks, listening on 127.0.0.1 "
                                   "only. The notebooks start a local Adrop-compatible server themselves: no key "
                                   "needed.")
    p.add_argument("--port", type=port, default=8888, help="default: 8888 (the next free one if taken)")
    p.add_argument("--dir", metavar="DIR", type=Path, default=None,
                   help=f"open this notebook folder as it is (default: working copies in ./{WORK_DIR}/ of "
                        "./notebooks, else of the notebooks next to the package)")
    p.add_argument("--fresh", action="store_true",
                   help=f"copy the notebooks into ./{WORK_DIR}/ again, replacing your working copies")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(run=cmd_lab)


SHARED = Path("share") / "adrop-kit" / "notebooks"
"""Where a wheel installs the notebooks, under the environment's data prefix (pyproject's data-files)."""
QUIET_SETTINGS = {  # JupyterLab's notification settings: no "get Jupyter news?" toast over the widgets
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def notebooks_dir(explicit: Path | None = None) -> Path | None:
    """The notebooks: `explicit`, else ./notebooks, else the repository's notebooks/ (editable installs),
    else the ones a wheel installed under the environment's prefix (`share/adrop-kit/notebooks`)."""
    candidates = [explicit] if explicit is not None else [
        Path.cwd() / "notebooks", Path(__file__).resolve().parents[2] / "notebooks",
        Path(sysconfig.get_path("data")) / SHARED, Path(sys.prefix) / SHARED]
    return next((p for p in candidates if p.is_dir() and any(p.glob("*.ipynb"))), None)


def quiet_settings(work: Path) -> Path:
    """A JupyterLab user-settings folder for the adrop lab (in `work`), holding QUIET_SETTINGS unless the
    user changed them there: JupyterLab asks about Jupyter news on first launch, over the widgets."""
    folder = work / ".jupyterlab-settings"
    for name, values in QUIET_SETTINGS.items():
        path = folder / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2), encoding="utf-8")
    return folder


def working_copies(source: Path, work: Path, *, fresh: bool = False) -> list[str]:
    """Copy the notebooks of `source` into `work` (those missing there, or all with `fresh`)."""
    work.mkdir(parents=True, exist_ok=True)
    copied = []
    for nb in sorted(source.glob("*.ipynb")):
        dest = work / nb.name
        if fresh or not dest.exists():
            shutil.copyfile(nb, dest)
            copied.append(nb.name)
    return copied


def lab_command(folder: Path, port: int, *, open_browser: bool = True) -> list[str]:
    """The command that runs JupyterLab with this interpreter, loopback only (and as root where run so,
    as in containers: JupyterLab refuses root without --allow-root)."""
    cmd = [sys.executable, "-m", "jupyterlab", "--ip=127.0.0.1", f"--port={port}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return [*cmd, str(folder)]


def cmd_lab(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("jupyterlab") is None:
        print(f"{PROG}: error: JupyterLab is not installed; {INSTALL_HINT} (or run `make lab`)", file=sys.stderr)
        return exits.USAGE
    source = notebooks_dir(args.dir)
    if source is None:
        where = args.dir if args.dir is not None else "./notebooks"
        print(f"{PROG}: error: {where}: no such notebook folder (use --dir)", file=sys.stderr)
        return exits.USAGE
    folder = source
    if args.dir is None:
        folder = Path.cwd() / WORK_DIR
        try:
            copied = working_copies(source, folder, fresh=args.fresh)
        except OSError as exc:
            print(f"{PROG}: error: {folder}: cannot copy the notebooks there: {exc.strerror or exc}", file=sys.stderr)
            return exits.USAGE
        kept = "" if copied or args.fresh else " (your earlier working copies; --fresh replaces them)"
        print(f"Working copies of {source} in {folder}{kept}: the committed notebooks stay untouched.",
              file=sys.stderr)
    print(f"Starting JupyterLab on {folder} at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", file=sys.stderr)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(quiet_settings(Path.cwd() / WORK_DIR))}
    return subprocess.call(lab_command(folder, args.port, open_browser=not args.no_browser), env=env)
