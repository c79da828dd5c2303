"""The synthetic For You world the feed and load benchmarks put through the broker.

Followed authors' posts and out-of-network posts spread evenly over the last ``span_ms`` (the
newest a minute old), then the viewers' follows. Each bench picks the sizes; the events are the
same kind, so the two measure the same pipeline on differently sized worlds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message

from infra.snowflake import make_snowflake
from protos import events_pb2

HOUR_MS = 3_600_000
FIRST_FOLLOWED, FIRST_OON = 100_000, 200_000


@dataclass(frozen=True)
class FeedWorld:
    """``followed`` authors with ``posts_per_followed`` posts each and ``oon_posts`` posts by
    ``oon_authors`` other authors (round robin), created over the last ``span_ms``."""

    followed: int
    posts_per_followed: int
    oon_authors: int
    oon_posts: int
    span_ms: int
    topics: int = 17

    @property
    def followed_ids(self) -> list[int]:
        return list(range(FIRST_FOLLOWED, FIRST_FOLLOWED + self.followed))

    def events(self, now_ms: int, follows: Iterable[tuple[int, Iterable[int]]]) -> Iterator[tuple[str, Message]]:
        """(topic, event) pairs: every post, then ``(viewer, followed authors)`` as follow events."""
        yield from self.post_events(now_ms)
        for viewer, authors in follows:
            for author in authors:
                yield "social_graph", events_pb2.SocialGraphEvent(
                    event_id=f"f{viewer}-{author}", user_id=viewer, action=events_pb2.FOLLOW, target_user_id=author,
                    timestamp_ms=now_ms)

    def post_events(self, now_ms: int) -> Iterator[tuple[str, Message]]:
        in_network = self.followed * self.posts_per_followed
        followed, oon = self.followed_ids, range(FIRST_OON, FIRST_OON + self.oon_authors)
        plan: list[tuple[Sequence[int], int]] = [(followed, in_network), (oon, self.oon_posts)]
        seq = 0
        for authors, count in plan:
            for i in range(count):
                seq += 1
                created = now_ms - (60_000 + self.span_ms * i // count)
                pid = make_snowflake(created, seq % 4096)
                post = events_pb2.PostCreated(post_id=pid, author_id=authors[i % len(authors)],
                                              created_at=created // 1000, conversation_id=pid,
                                              text=f"post {seq} about topic {seq % self.topics}")
                yield "posts", events_pb2.PostEvent(event_id=f"p{pid}", created=post)
