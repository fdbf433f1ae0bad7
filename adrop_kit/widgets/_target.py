"""Where a widget's sends go (`Target`), and live counts of a send (`Tally`); no widget import.

A `Target` is a configured endpoint with an app key, or an embedded `LocalServer` started on first
use. The key lives only in a private attribute; everything shown is masked.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

from ..catalog import Catalog, resolve
from ..journal import Journal
from ..transport import KEY_ENV, mask_key


class Target:
    """A configured endpoint (key from `app_key`, a Password widget or ADROP_APP_KEY), or else an
    embedded `LocalServer`, started on first use and closed by `close()`.

    The key is kept in a private attribute and only ever shown masked.
    """

    def __init__(self, endpoint: str | None = None, app_key: str | None = None, *, server: Any = None,
                 catalog: Catalog | str | None = None) -> None:
        self.endpoint = endpoint or None
        self.__key = app_key or None
        self._key_source = "given" if self.__key else ""
        self.server = server
        self.catalog = resolve(catalog)
        self._own_server = False

    def set_key(self, key: str | None, source: str = "entered here") -> None:
        self.__key = (key or "").strip() or None
        self._key_source = source if self.__key else ""

    def set_endpoint(self, endpoint: str | None) -> None:
        self.endpoint = (endpoint or "").strip() or None

    @property
    def local(self) -> bool:
        return self.endpoint is None

    def _key(self) -> str | None:
        if self.local:
            return self.local_server().app_key
        return self.__key or os.environ.get(KEY_ENV) or None

    @property
    def masked_key(self) -> str:
        if self.local:
            return mask_key(self.server.app_key) if self.server is not None else "(generated)"
        return mask_key(self._key())

    @property
    def key_source(self) -> str:
        if self.local:
            return "the local server's key"
        if self.__key:
            return self._key_source
        return f"${KEY_ENV}" if os.environ.get(KEY_ENV) else "none"

    def describe(self) -> str:
        where = self.endpoint or (self.server.endpoint if self.server is not None and self.server.port
                                  else "embedded local server (starts on first send)")
        return f"{where} · key {self.masked_key} ({self.key_source})"

    def local_server(self) -> Any:
        """The embedded server, started now if needed."""
        if self.server is None:
            from ..server import LocalServer

            self.server = LocalServer(catalog=self.catalog)
            self._own_server = True
        if not self.server.port:  # not started yet
            self.server.start()
        return self.server

    def url(self) -> str:
        return self.endpoint if self.endpoint is not None else self.local_server().endpoint

    def sender(self, **options: Any) -> Any:
        """A `Sender` to this target (dry-run needs no key)."""
        from ..sender import Sender

        options.setdefault("catalog", self.catalog)
        return Sender(self._key(), endpoint=self.url(), **options)

    def contract_args(self) -> tuple[str, str | None]:
        """(endpoint, key) for `run_contract`: kept out of any widget."""
        return self.url(), self._key()

    def close(self) -> None:
        if self._own_server and self.server is not None:
            self.server.close()
            self.server = None
            self._own_server = False

    def __repr__(self) -> str:
        return f"<Target {self.describe()}>"


class Tally(Journal):
    """Live counts of a send: a journal that keeps nothing, handed to `Sender(journal=...)`.

    The Sender records every outcome as it happens; this counts them and calls `on_record(counts)`.
    """

    def __init__(self, on_record: Any = None) -> None:
        super().__init__(":memory:")
        self.on_record = on_record
        self._counts: dict[str, int] = {}
        self._count_lock = threading.Lock()

    def lookup(self, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
        return {}  # nothing is remembered between sends

    def record(self, key: str, row: int, event_name: str | None, status: str, attempts: int,
               http_status: int | None = None, error: str | None = None) -> None:
        with self._count_lock:
            self._counts[status] = self._counts.get(status, 0) + 1
            snapshot = dict(self._counts)
        if self.on_record is not None:
            self.on_record(snapshot)

    def counts(self) -> dict[str, int]:
        with self._count_lock:
            return dict(self._counts)


__all__ = ["Tally", "Target"]
