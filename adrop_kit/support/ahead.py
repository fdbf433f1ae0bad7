"""Reading one item ahead in a background thread, so reading and checking overlap.

`read_ahead(items)` yields what `items` yields, in order, while one worker thread computes the next
item as the caller works on the current one (readers that spend their time in native code, such as
polars' parsers, release the GIL, so both cores work). It is bounded: the worker starts on item k+1
only once the caller has taken item k, so at most two items are alive (the caller's and the one
being made), never a queue of them.

It changes nothing else a caller sees: an exception raised while making an item (a `DataReadError`,
a `KeyboardInterrupt`, a `MemoryError`) is raised to the caller when it asks for that item, after it
has done with the items before, as without the thread; Ctrl-C in the caller stops it where it waits.
When the caller stops early (`close()`, a `break`, an exception) the item being made is finished
and dropped and `items` is closed in the caller's thread; no thread outlives the iteration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], *, name: str = "adrop-read-ahead") -> Iterator[T]:
    """`items`, each made in one background thread while the caller works on the one before."""
    source = iter(items)
    worker = _Worker(source, name)
    try:
        while True:
            item = worker.take()  # raises what making it raised
            if item is _END:
                return
            worker.ask()  # the next one is made while the caller has this one
            yield item  # type: ignore[misc]
            del item
    finally:
        worker.stop()
        close = getattr(source, "close", None)
        if close is not None:
            close()  # a generator's own `finally` (files closed) runs here, not in the thread


class _Worker:
    """One thread making one item at a time, on request."""

    def __init__(self, source: Iterator[T], name: str):
        self._source = source
        self._wanted = threading.Semaphore(0)
        self._stopped = False
        self._future: Future[object] = Future()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.ask()

    def ask(self) -> None:
        self._future = Future()
        self._wanted.release()

    def take(self) -> object:
        return self._future.result()

    def _run(self) -> None:
        while True:
            self._wanted.acquire()
            if self._stopped:
                return
            future = self._future
            try:
                item = next(self._source, _END)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, whatever it is
                future.set_exception(exc)
                return
            future.set_result(item)
            del item
            if future.result() is _END:
                return

    def stop(self) -> None:
        """Let the item being made finish, drop it, and end the thread."""
        self._stopped = True
        self._wanted.release()
        self._thread.join()
        self._future = Future()


__all__ = ["read_ahead"]
