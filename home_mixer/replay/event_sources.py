"""Where a replay's events come from: the synthetic world, an event log directory (including a
dump of the Kafka topics), or MovieLens-100K; each as a re-iterable, time-ordered stream.

A source is re-iterable because the replay reads it twice (once to find the sessions and their
outcomes, once to rebuild state in time order) instead of holding the whole log in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message

from events.world.world import World

EventStream = Iterator[tuple[str, Message]]


@dataclass(frozen=True)
class ReplaySource:
    name: str
    description: str  # how the data maps to feed events (stated in the report header)
    stream: Callable[[], EventStream]
    world: World | None = None  # the oracle, when the source is the synthetic world


def world_source(preset: str, seed: int = 0) -> ReplaySource:
    from events.world.config import WorldConfig

    data = World.generate(WorldConfig.preset(preset, seed=seed))
    c = data.config
    return ReplaySource(
        name=f"world:{preset}:seed{seed}",
        description=(
            f"synthetic world preset {preset!r} (seed {seed}): {c.n_users} users, {c.days:g} days, "
            f"{len(data.world.posts)} posts; sessions were shown by the world's logging policy "
            f"({c.in_network_fraction:.0%} random recent in-network, the rest popular/random out-of-network)"
        ),
        stream=data.events,
        world=data.world,
    )


def log_source(directory: str | Path) -> ReplaySource:
    from events.log import EventLog

    log = EventLog(directory)
    if not any(log.path(t).exists() for t in ("posts", "engagements")):
        raise FileNotFoundError(f"{directory} holds no posts/engagements event files (*.pb.zst)")
    return ReplaySource(
        name=f"log:{Path(directory).name}",
        description=f"event log {directory} (posts, engagements, social_graph, served topics merged by time)",
        stream=log.merged,
    )


def movielens_source() -> ReplaySource:
    from events.movielens import load_movielens_100k, movielens_events

    data = load_movielens_100k()
    return ReplaySource(
        name="movielens-100k",
        description=(
            "MovieLens-100K (GroupLens, read from the recbole wheel) mapped SYNTHETICALLY to feed events: "
            "every rating = an impression, rating >= 4 = favorite, 5 = repost, <= 2 = not_interested; "
            "items are posts created at their first rating; authors are synthetic (one per first genre); "
            "no follow graph; a session = a user's ratings with gaps under 30 minutes"
        ),
        stream=lambda: movielens_events(data),
    )
