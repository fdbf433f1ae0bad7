"""Where a widget's sends go (`Target`) and how hard they are tried (`WIDGET_RETRY`); no widget import.

A `Target` is a configured endpoint with an app key, or an embedded `LocalServer` run in process
(no socket: requests reach its app through `local_transport`), opened on first use. The key lives
only in a private attribute; everything shown is masked.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from adrop_kit.send.retry import RetryPolicy
from adrop_kit.send.transport import KEY_ENV, mask_key
from adrop_kit.spec.catalog import Catalog, resolve

WIDGET_RETRY = RetryPolicy(retries=2, timeout=10.0)
"""A click should answer soon: two retries, ten seconds a request (a backfill belongs to `adrop-kit send`)."""


class Target:
    """A configured endpoint (key from `app_key`, a Password widget or ADROP_APP_KEY), or else an
    embedded `LocalServer` (or the `server` given), run in process from first use, closed by `close()`.

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
        if self.endpoint:
            where = self.endpoint
        elif self.server is not None and self.server.listening:
            where = self.server.endpoint
        else:
            where = "embedded local server, in process" + ("" if self.server is not None and self.server.running
                                                           else " (starts on first send)")
        return f"{where} · key {self.masked_key} ({self.key_source})"

    def local_server(self) -> Any:
        """The embedded server, running (in process) from now on."""
        from adrop_kit.testing.local import local_server

        if self.server is None:
            self.server = local_server(catalog=self.catalog)
            self._own_server = True
        return self.server.open()

    def _local_transport(self) -> Any:
        from adrop_kit.testing.local import local_transport

        return local_transport(self.local_server())

    def url(self) -> str:
        if self.endpoint is not None:
            return self.endpoint
        server = self.local_server()
        if server.listening:
            return server.endpoint
        from adrop_kit.testing.local import IN_PROCESS_URL

        return IN_PROCESS_URL + "/event"

    def scope(self) -> str:
        """Where sends go, as one string: the URL and a short hash of the key (never the key itself), so
        that what was delivered to one app at one endpoint is never taken for delivered to another."""
        key = self._key() or ""
        return f"{self.url()}#{hashlib.sha256(key.encode()).hexdigest()[:16]}"

    def sender(self, **options: Any) -> Any:
        """A `Sender` to this target (dry-run needs no key)."""
        from adrop_kit.send.sender import Sender

        options.setdefault("catalog", self.catalog)
        if self.local:
            return Sender(self._key(), transport=self._local_transport(), **options)
        return Sender(self._key(), endpoint=self.url(), **options)

    def contract_run(self, **options: Any) -> Any:
        """A `ContractRun` against this target; nothing is sent until it is iterated."""
        from adrop_kit.testing.contract import ContractRun

        options.setdefault("catalog", self.catalog)
        if self.local:
            return ContractRun(self.local_server(), self._key(), **options)
        return ContractRun(self.url(), self._key(), **options)

    def close(self) -> None:
        if self._own_server and self.server is not None:
            self.server.close()
            self.server = None
            self._own_server = False

    def __repr__(self) -> str:
        return f"<Target {self.describe()}>"


__all__ = ["WIDGET_RETRY", "Target"]
