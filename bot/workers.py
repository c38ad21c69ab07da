"""A few tasks working through a list together: the engines' sends in flight at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def work_through(
    items: Iterable[T], *, workers: int, each: Callable[[T], Awaitable[bool]]
) -> None:
    """Hand `items` to up to `workers` tasks; a task stops when the list is done or when
    `each` returns False (a pause: what is left stays untouched). The first error is raised
    only after every other task has finished the item in hand: one cancelled mid-send would
    stay claimed, and become `unknown` at the next start."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            if not await each(queue.get_nowait()):
                return

    tasks = [asyncio.create_task(worker()) for _ in range(min(workers, queue.qsize()))]
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for task in tasks:
            task.cancel()
    for result in results:
        if isinstance(result, BaseException):
            raise result
