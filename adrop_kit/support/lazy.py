"""The one way a public face (`adrop_kit`, a subpackage's `__init__`) imports a name on first use.

    if TYPE_CHECKING:                       # what type checkers and readers see
        from adrop_kit.server.app import LocalServer
    __getattr__, __dir__ = lazy_exports(__name__, {"LocalServer": "adrop_kit.server.app"})

The first `package.LocalServer` imports the module and stores the object in the package, so later
lookups are plain attributes and the object is the real one (`inspect.signature` and `help` show
its own signature and docstring). `needs` maps an optional dependency to its install hint: a
missing one raises `ImportError` saying what to install (pandera's habit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], *,
                 needs: Mapping[str, str] | None = None) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`: each name of `exports` (name -> module) imported on first use."""
    hints = dict(needs or {})

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").partition(".")[0]
            if missing in hints:
                raise ImportError(f"{package}.{name} needs {missing}: {hints[missing]}") from exc
            raise
        # a name that is the module itself ("importers": "adrop_kit.validate.importers") is the module
        value = module if module_name.rpartition(".")[2] == name and not hasattr(module, name) \
            else getattr(module, name)
        setattr(sys.modules[package], name, value)  # the next lookup does not come here
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
