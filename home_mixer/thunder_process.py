"""Thunder for the local stack: in its own process, as deployed (``child_process``), or in the
caller's; both through :func:`start_caught_up_thunder`.

The child starts Thunder exactly as the in-process stack does (``start_thunder`` on a free
loopback port, replaying the posts topic itself) and reports its port once Thunder has caught
up and is SERVING, so the parent never sees a half-filled store.
"""

from __future__ import annotations

from typing import Any

from home_mixer.child_process import ChildService, Stopper
from infra.settings import ConnectionSettings
from thunder.server import ThunderServer, start_thunder
from thunder.settings import ThunderSettings


async def start_caught_up_thunder(connection: ConnectionSettings, catch_up_timeout_s: float) -> ThunderServer:
    """Thunder on a free loopback port over ``connection``'s posts topic, returned once it has
    caught up and serves (raises, stopped, otherwise)."""
    thunder = await start_thunder(ThunderSettings(host="127.0.0.1", port=0, metrics_port=0),
                                  bootstrap=connection.kafka_bootstrap_servers, topic=connection.topic_posts,
                                  connection=connection)
    if not await thunder.wait_serving(catch_up_timeout_s):
        await thunder.stop()
        raise TimeoutError(f"thunder did not catch up within {catch_up_timeout_s:.0f} s")
    return thunder


async def serve_thunder(connection: dict[str, Any], catch_up_timeout_s: float) -> tuple[int, Stopper]:
    """Child: Thunder over ``connection``'s posts topic; returns once it serves."""
    thunder = await start_caught_up_thunder(ConnectionSettings(**connection), catch_up_timeout_s)
    return thunder.port, thunder.stop


def start_thunder_process(connection: dict[str, Any], catch_up_timeout_s: float) -> ChildService:
    """Spawn the Thunder child (``connection``: a ``ConnectionSettings`` dump); ``await
    child.ready(timeout)`` for its port."""
    return ChildService.start("thunder", serve_thunder, connection, catch_up_timeout_s)
