"""`ServerLoop`: the one event loop of a `LocalServer` started in the background.

The app, its group-commit writer and (when the server listens) uvicorn all run on it, so the
in-process transport and a socket reach the same app on the same loop. `submit` hands it a
coroutine from any thread; `close` cancels what is still running, stops the loop and joins it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any


class ServerLoop:
    """An asyncio loop running in a daemon thread."""

    def __init__(self, name: str = "adrop-local-server"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self, timeout: float = 5.0) -> None:
        """Cancel the tasks left (a caller waiting on one sees it cancelled), stop, join, close."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            try:
                self.submit(_cancel_all()).result(timeout)
            except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError, RuntimeError):
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


async def _cancel_all() -> None:
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
