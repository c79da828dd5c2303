"""Redis reads issued in the same event-loop turn, sent together as one round trip.

A feed request starts ten query hydrators at once, each reading one or two of the viewer's
keys (its engagement list, follow/block/mute sets, muted keywords, own stats, served history,
impression filter, cached posts). As ten separate commands they cost ten round trips, each
with its own socket write, wake-up and reply parse queued behind the others on the shared event
loop. ``ReadBatch.read`` queues a command and sends everything queued in the current turn in
one non-transactional pipeline once the turn ends, so the hydrators keep calling their own
methods and need not know about each other.

Failures stay as isolated as they were: a command that fails (a wrong-typed key, say) fails
only its own caller (the pipeline returns errors in place), a caller that gives up (its stage
timed out) leaves the others' replies alone, and only a lost connection fails every read of
that round trip, as it failed each of them before. Identical commands queued together are sent
once; each caller gets its own shallow copy of a container reply.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import redis.asyncio as aioredis

Command = tuple[Any, ...]
"""A Redis command as ``execute_command`` takes it: the name, then the arguments."""


class ReadBatch:
    """Queues commands for ``client`` and sends each turn's commands as one pipeline. For reads:
    commands of one batch are not a transaction, and their order is only the queue order."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._queued: list[tuple[Command, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()  # strong references until each is done
        self.round_trips = 0
        """Pipelines sent so far (tests and benches read it)."""

    async def read(self, *command: Any) -> Any:
        """The reply to ``command`` (parsed as ``client.execute_command`` would)."""
        if not command:
            raise ValueError("a command needs at least its name")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._send_queued)  # after every task already scheduled this turn
        self._queued.append((command, future))
        return await future

    def _send_queued(self) -> None:
        batch, self._queued = self._queued, []
        task = asyncio.get_running_loop().create_task(self._send(batch), name="redis-read-batch")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Command, asyncio.Future[Any]]]) -> None:
        waiting = [(command, future) for command, future in batch if not future.done()]
        if not waiting:
            return  # every caller gave up before the turn ended
        unique = list(dict.fromkeys(command for command, _ in waiting))
        pipe = self.client.pipeline(transaction=False)
        for command in unique:
            pipe.execute_command(*command)
        self.round_trips += 1
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the round trip failed (connection lost): every read of it did
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (shutting down): so are the reads
            for _, future in waiting:
                future.cancel()
            raise
        by_command = dict(zip(unique, replies, strict=True))
        shared = len(unique) < len(waiting)
        for command, future in waiting:
            if future.done():
                continue  # its caller timed out meanwhile
            reply = by_command[command]
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(copy.copy(reply) if shared and isinstance(reply, list | set | dict) else reply)
