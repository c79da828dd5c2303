"""Graceful shutdown for the ``foryou serve`` commands: one place that turns SIGINT/SIGTERM into
an asyncio event, so every service stops accepting, drains and commits the same way."""

from __future__ import annotations

import asyncio
import signal


def shutdown_event() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM; call from inside the running event loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
