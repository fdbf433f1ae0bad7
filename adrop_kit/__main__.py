"""`python -m adrop_kit` runs the `adrop-kit` command."""

from __future__ import annotations

from adrop_kit.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
