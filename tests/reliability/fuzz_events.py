"""A small valid event stream with thousands of malformed messages mixed in, and its oracle.

Why an oracle of our own: the counts the consumers report must be checked against something the
consumers did not compute. Every malformed message here is malformed by construction and checked
with protobuf alone (it does not decode, or it decodes to something no consumer may apply: no
post/author id, no event kind, no action...), so the expected ``malformed`` count of each consumer
is simply how many were generated for its topic. Valid events follow every consumer's rules at
once (event id, positive ids, recent creation time) so they are applied by all of them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError, Message

from events.world.actions import ACTION_NUMBERS
from infra.snowflake import make_snowflake
from infra.topics import key_for
from protos import events_pb2

Raw = tuple[bytes, bytes]

ENGAGEMENT_ACTIONS = [ACTION_NUMBERS[a] for a in ("favorite", "reply", "repost", "click", "impression")]


@dataclass
class FuzzStream:
    """What to produce per topic (in order) and what a correct consumer must end up with."""

    raw: dict[str, list[Raw]] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    posts: list[events_pb2.PostCreated] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)
    valid: list[tuple[str, Message]] = field(default_factory=list)  # unique valid events, in order

    @property
    def live_post_ids(self) -> set[int]:
        return {p.post_id for p in self.posts} - self.deleted

    @property
    def total_malformed(self) -> int:
        return sum(self.malformed.values())


def _post_invalid_for_all(ev: events_pb2.PostEvent) -> bool:
    """Refused by Thunder, the user-state ingest AND the retrieval index."""
    kind = ev.WhichOneof("event")
    if kind is None:
        return True
    if kind == "created":
        return ev.created.post_id <= 0 or ev.created.author_id <= 0
    return ev.deleted.post_id <= 0


def _engagement_invalid(ev: events_pb2.EngagementEvent) -> bool:
    return not ev.event_id or ev.user_id <= 0 or ev.post_id <= 0 or ev.action == 0


_TARGETED = {1, 2, 3, 4, 5, 6}


def _social_invalid(ev: events_pb2.SocialGraphEvent) -> bool:
    if not ev.event_id or ev.user_id <= 0:
        return True
    if ev.action in _TARGETED:
        return ev.target_user_id <= 0
    if ev.action in (7, 8):
        return not ev.keyword.strip()
    return True


class _Garbage:
    """Malformed values for one topic: random bytes, truncated valid events, other event types,
    invalid field values. Each candidate is kept only if protobuf alone shows it is malformed."""

    def __init__(self, rng: random.Random, message_type: type[Message], invalid: Callable[[Message], bool],
                 valid_samples: list[bytes], other_types: list[bytes], bad_values: list[bytes]) -> None:
        self.rng, self.type, self.invalid = rng, message_type, invalid
        self.valid_samples, self.other_types, self.bad_values = valid_samples, other_types, bad_values

    def _malformed(self, value: bytes) -> bool:
        try:
            msg = self.type.FromString(value)
        except DecodeError:
            return True
        return self.invalid(msg)

    def one(self) -> bytes:
        rng = self.rng
        while True:
            kind = rng.randrange(4)
            if kind == 0:
                value = rng.randbytes(rng.randint(1, 80))
            elif kind == 1:
                whole = rng.choice(self.valid_samples)
                value = whole[: rng.randint(1, len(whole) - 1)]
            elif kind == 2:
                value = rng.choice(self.other_types)
            else:
                value = rng.choice(self.bad_values)
            if self._malformed(value):
                return value


def build(seed: int, now_ms: int, *, n_authors: int = 20, posts_per_author: int = 20, n_deletes: int = 30,
          n_users: int = 50, n_engagements: int = 1500, n_social: int = 200,
          malformed_posts: int = 10_000, malformed_engagements: int = 1_500, malformed_social: int = 500,
          duplicate: bool = True) -> FuzzStream:
    """Valid events (each produced twice when ``duplicate``) with malformed values interleaved."""
    rng = random.Random(seed)
    out = FuzzStream()
    authors = list(range(1_000, 1_000 + n_authors))
    users = list(range(1, n_users + 1))
    post_events: list[tuple[int, events_pb2.PostEvent]] = []
    for i in range(n_authors * posts_per_author):
        author = authors[i % n_authors]
        ts = now_ms - 3_600_000 + i * 1000
        pid = make_snowflake(ts, i)
        post = events_pb2.PostCreated(post_id=pid, author_id=author, created_at=ts // 1000, conversation_id=pid,
                                      text=f"post {i}")
        out.posts.append(post)
        post_events.append((author, events_pb2.PostEvent(event_id=f"c{pid}", created=post)))
    for post in rng.sample(out.posts, n_deletes):
        out.deleted.add(post.post_id)
        post_events.append((post.author_id, events_pb2.PostEvent(
            event_id=f"d{post.post_id}",
            deleted=events_pb2.PostDeleted(post_id=post.post_id, author_id=post.author_id, deleted_at=now_ms // 1000))))
    engagements = [
        events_pb2.EngagementEvent(
            event_id=f"e{i}", user_id=rng.choice(users), post_id=(p := rng.choice(out.posts)).post_id,
            author_id=p.author_id, action=rng.choice(ENGAGEMENT_ACTIONS), timestamp_ms=now_ms - 1_800_000 + i * 100)
        for i in range(n_engagements)
    ]
    social = [
        events_pb2.SocialGraphEvent(
            event_id=f"g{i}", user_id=rng.choice(users), timestamp_ms=now_ms - 1_800_000 + i,
            **({"action": events_pb2.MUTE_KEYWORD, "keyword": rng.choice(["Spoiler", "crypto"])} if i % 10 == 0
               else {"action": rng.choice([events_pb2.FOLLOW, events_pb2.MUTE, events_pb2.BLOCK]),
                     "target_user_id": rng.choice(authors)}))
        for i in range(n_social)
    ]
    out.valid = ([("posts", e) for _, e in post_events] + [("engagements", e) for e in engagements]
                 + [("social_graph", e) for e in social])

    eng_bytes = [e.SerializeToString() for e in engagements[:50]]
    soc_bytes = [e.SerializeToString() for e in social[:50]]
    post_bytes = [e.SerializeToString() for _, e in post_events[:50]]
    served = events_pb2.ServedFeed(event_id="s1", request_id="s1", viewer_id=3).SerializeToString()
    bad_posts = [
        events_pb2.PostEvent(event_id="x").SerializeToString(),
        events_pb2.PostEvent(event_id="x", created=events_pb2.PostCreated(post_id=0, author_id=5, created_at=1)).SerializeToString(),
        events_pb2.PostEvent(event_id="x", created=events_pb2.PostCreated(post_id=-7, author_id=5)).SerializeToString(),
        events_pb2.PostEvent(event_id="x", created=events_pb2.PostCreated(post_id=9, author_id=-1)).SerializeToString(),
        events_pb2.PostEvent(event_id="x", deleted=events_pb2.PostDeleted(post_id=0)).SerializeToString(),
        b"",
    ]
    bad_eng = [
        events_pb2.EngagementEvent(user_id=1, post_id=2, action=1).SerializeToString(),
        events_pb2.EngagementEvent(event_id="x", user_id=0, post_id=2, action=1).SerializeToString(),
        events_pb2.EngagementEvent(event_id="x", user_id=1, post_id=-2, action=1).SerializeToString(),
        events_pb2.EngagementEvent(event_id="x", user_id=1, post_id=2).SerializeToString(),
        b"",
    ]
    bad_soc = [
        events_pb2.SocialGraphEvent(event_id="x", user_id=1, action=events_pb2.FOLLOW).SerializeToString(),
        events_pb2.SocialGraphEvent(event_id="x", user_id=1, action=events_pb2.MUTE_KEYWORD, keyword="  ").SerializeToString(),
        events_pb2.SocialGraphEvent(event_id="x", user_id=1, action=99, target_user_id=3).SerializeToString(),
        events_pb2.SocialGraphEvent(user_id=1, action=events_pb2.FOLLOW, target_user_id=3).SerializeToString(),
        b"",
    ]
    garbage = {
        "posts": _Garbage(rng, events_pb2.PostEvent, _post_invalid_for_all, post_bytes, eng_bytes + soc_bytes + [served], bad_posts),
        "engagements": _Garbage(rng, events_pb2.EngagementEvent, _engagement_invalid, eng_bytes, post_bytes + soc_bytes + [served], bad_eng),
        "social_graph": _Garbage(rng, events_pb2.SocialGraphEvent, _social_invalid, soc_bytes, post_bytes + eng_bytes + [served], bad_soc),
    }
    valid_raw: dict[str, list[Raw]] = {
        "posts": [(key_for(a), e.SerializeToString()) for a, e in post_events],
        "engagements": [(key_for(e.user_id), e.SerializeToString()) for e in engagements],
        "social_graph": [(key_for(e.user_id), e.SerializeToString()) for e in social],
    }
    counts = {"posts": malformed_posts, "engagements": malformed_engagements, "social_graph": malformed_social}
    for topic, valid in valid_raw.items():
        stream = valid + valid if duplicate else list(valid)
        out.raw[topic] = _interleave(rng, stream, [(key_for(rng.choice(users)), garbage[topic].one())
                                                   for _ in range(counts[topic])])
        out.malformed[topic] = counts[topic]
    return out


def _interleave(rng: random.Random, ordered: list[Raw], noise: list[Raw]) -> list[Raw]:
    """Insert ``noise`` at random places without reordering ``ordered`` (per-key order matters)."""
    slots = sorted(rng.randrange(len(ordered) + 1) for _ in noise)
    out: list[Raw] = []
    j = 0
    for i, item in enumerate(ordered):
        while j < len(slots) and slots[j] == i:
            out.append(noise[j])
            j += 1
        out.append(item)
    out.extend(noise[j:])
    return out

