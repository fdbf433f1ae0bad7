"""The `adrop-kit` command: thin front ends that parse arguments, call the library and render
its results. One module per command group (`main`: validate, catalog, sample, rules; `net`:
send, serve, demo; `fuzz`; `export`; `lab`), the shared output helpers (`common`), the argument
converters (`argtypes`) and the exit codes (`exits`, the only place they are defined).

Layer: a front end, at the top; may import everything below it.
"""

from __future__ import annotations

from adrop_kit.cli.main import main

__all__ = ["main"]
