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

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], *, name: str = "adrop-read-ahead") -> Iterator[T]:
    """`items`, each made in one background thread while the caller works on the one before."""
    source = iter(items)
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    try:
        making = pool.submit(next, source, _END)
        while (item := making.result()) is not _END:  # raises what making it raised
            making = pool.submit(next, source, _END)  # the next one is made while the caller has this one
            yield item  # type: ignore[misc]
            del item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # the item being made is finished and dropped
        close = getattr(source, "close", None)
        if close is not None:
            close()  # a generator's own `finally` (files closed) runs here, not in the thread


__all__ = ["read_ahead"]
