"""Kafka topic names and partition keys (DESIGN.md §3).

Keys keep each entity's events ordered within one partition: posts by author, engagement,
social-graph and served events by user.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    """Topic names; override with settings when several deployments share a broker."""

    posts: str = "posts"
    engagements: str = "engagements"
    social_graph: str = "social_graph"
    served: str = "served"
    dead_letter: str = "dead_letter"

    def all(self) -> list[str]:
        return [self.posts, self.engagements, self.social_graph, self.served, self.dead_letter]


DEFAULT_PARTITIONS = 4


def key_for(entity_id: int) -> bytes:
    """Partition key: the decimal id, so every client (any language) hashes it the same way."""
    return str(int(entity_id)).encode()
