"""Handing freed memory back to the system between the batches of a long run.

A streamed run frees each batch once it is checked, but the allocators keep what was freed for
later: glibc's malloc keeps free chunks inside its heaps (the Parquet writer's buffers of a
`violations_out` file and Python's objects live there), and pyarrow's mimalloc pool keeps its
pages. Measured on 10M realistic JSONL rows with `--violations-out`: glibc's free-but-kept memory
grew from 44 to 123 MB batch after batch. `release_freed` asks both to give it back
(`malloc_trim(0)`, `MemoryPool.release_unused`); nothing else changes (no allocator setting), so the
Python API may call it in a host's process too. Where there is no glibc: nothing.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any


@functools.cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc
        return None


def release_freed() -> None:
    """Give memory the allocators hold but nobody uses back to the system (microseconds to a few
    milliseconds; see the module)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    if "pyarrow" in sys.modules:  # only if something loaded it: never imported for this
        sys.modules["pyarrow"].default_memory_pool().release_unused()


__all__ = ["release_freed"]
