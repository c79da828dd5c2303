"""In-process fakes of the home-mixer dependencies (a small world: users, posts, graph)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from home_mixer.bloom import BloomFilter
from home_mixer.models import PostCandidate
from infra.snowflake import make_snowflake
from phoenix.ranker.packed import Predictions, unpack_candidates
from protos import events_pb2, recsys_pb2, thunder_pb2
from user_state.reader import AuthorStats

NOW_MS = 1_700_000_000_000
HOUR_MS = 3_600_000


def post_id(age_ms: int, seq: int) -> int:
    """A snowflake id for a post created ``age_ms`` before NOW_MS."""
    return make_snowflake(NOW_MS - age_ms, seq)


@dataclass
class World:
    posts: dict[int, events_pb2.PostCreated] = field(default_factory=dict)
    following: dict[int, set[int]] = field(default_factory=dict)
    blocked: dict[int, set[int]] = field(default_factory=dict)
    muted: dict[int, set[int]] = field(default_factory=dict)
    keywords: dict[int, list[str]] = field(default_factory=dict)
    followers: dict[int, int] = field(default_factory=dict)
    counts: dict[int, dict[str, int]] = field(default_factory=dict)

    def add_post(self, pid: int, author: int, text: str = "hello world", **kw) -> int:
        self.posts[pid] = events_pb2.PostCreated(
            post_id=pid, author_id=author, text=text, created_at=(pid >> 22) // 1000 + 1288834974, **kw
        )
        return pid


class FakeUserState:
    def __init__(self, world: World) -> None:
        self.w = world

    async def action_sequence(self, user_id: int, max_len: int) -> recsys_pb2.UserActionSequence:
        return recsys_pb2.UserActionSequence(user_id=user_id)

    async def following(self, user_id: int) -> set[int]:
        return set(self.w.following.get(user_id, set()))

    async def followers_of_viewer_among(self, viewer_id: int, author_ids: Sequence[int]) -> set[int]:
        return {a for a in author_ids if viewer_id in self.w.following.get(a, set())}

    async def blocked(self, user_id: int) -> set[int]:
        return set(self.w.blocked.get(user_id, set()))

    async def muted(self, user_id: int) -> set[int]:
        return set(self.w.muted.get(user_id, set()))

    async def muted_keywords(self, user_id: int) -> list[str]:
        return list(self.w.keywords.get(user_id, []))

    async def posts(self, post_ids: Sequence[int]) -> dict[int, events_pb2.PostCreated]:
        return {p: self.w.posts[p] for p in post_ids if p in self.w.posts}

    async def engagement_counts(self, post_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        return {p: self.w.counts.get(p, {"impression": 10, "favorite": 1}) for p in post_ids if p in self.w.posts}

    async def author_stats(self, author_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        return {a: AuthorStats(followers=self.w.followers.get(a, 100)) for a in author_ids}


class FakeThunder:
    def __init__(self, world: World) -> None:
        self.w = world
        self.calls = 0
        self.fail = False

    async def get_in_network_posts(self, user_id, following_ids, exclude_ids, max_results, is_video_request):
        self.calls += 1
        if self.fail:
            raise ConnectionError("thunder down")
        out = []
        for p in sorted(self.w.posts.values(), key=lambda p: -p.post_id):
            if p.author_id in following_ids and p.post_id not in exclude_ids:
                out.append(thunder_pb2.LightPost(
                    post_id=p.post_id, author_id=p.author_id, created_at=p.created_at,
                    in_reply_to_post_id=p.in_reply_to_post_id, is_retweet=p.is_retweet, is_reply=p.is_reply,
                    source_post_id=p.source_post_id, source_user_id=p.source_user_id, has_video=p.has_video,
                    conversation_id=p.conversation_id,
                ))
        return out[:max_results]


class FakeRetrieval:
    def __init__(self, world: World, viewer_graph_excluded: bool = True) -> None:
        self.w = world
        self.calls = 0
        self.fail = False

    async def retrieve(self, user_id, sequence, top_k, exclude_ids):
        self.calls += 1
        if self.fail:
            raise ConnectionError("retrieval down")
        hits = [(p.post_id, p.author_id, 1.0 / (i + 1)) for i, p in enumerate(self.w.posts.values())
                if p.post_id not in exclude_ids and not p.is_reply and not p.is_retweet]
        return hits[:top_k], "retrieval-v1"


class FakeRanker:
    """Deterministic probabilities from the post id; records each candidate row it got
    (``{column: value}`` with ``semantic_ids`` as a tuple)."""

    ACTIONS = ("favorite", "reply", "click", "report")

    def __init__(self) -> None:
        self.fail = False
        self.seen: list[dict] = []

    async def predict_packed(self, sequence, candidates, product_surface):
        if self.fail:
            raise ConnectionError("ranker down")
        columns, sids = unpack_candidates(candidates)
        for i in range(candidates.count):
            self.seen.append({**{k: int(v[i]) for k, v in columns.items()},
                              "semantic_ids": tuple(x for x in sids[i].tolist() if x)})
        ids = columns["tweet_id"]
        h = np.array([(t * 2654435761) % 1000 / 1000.0 for t in ids.tolist()])  # Python ints: no overflow
        probs = np.stack([0.1 + 0.5 * h, 0.02 * h, np.full(len(ids), 0.3), np.full(len(ids), 0.0001)], axis=1)
        return Predictions(ids, self.ACTIONS, probs.reshape(len(ids), len(self.ACTIONS)), 5.0 + 10 * h, "ranker-v7")


class FakeFeedState:
    def __init__(self) -> None:
        self.served: list[tuple[int, list[int], int]] = []
        self.history: set[int] = set()
        self.bloom: BloomFilter | None = None
        self.cache: dict[tuple[int, str], list[PostCandidate]] = {}
        self.impressions: list[int] = []

    async def served_ids(self, viewer_id, now_ms, window_ms, max_ids):
        return set(self.history)

    async def record_served(self, viewer_id, post_ids, now_ms):
        self.served.append((viewer_id, list(post_ids), now_ms))

    async def impression_bloom(self, viewer_id):
        return self.bloom

    async def add_impressions(self, viewer_id, post_ids):
        self.impressions.extend(post_ids)

    async def cached_posts(self, viewer_id, variant):
        return list(self.cache.get((viewer_id, variant), []))

    async def cache_posts(self, viewer_id, variant, posts, ttl_s):
        self.cache[(viewer_id, variant)] = list(posts)


class FakePublisher:
    def __init__(self) -> None:
        self.feeds: list[events_pb2.ServedFeed] = []

    async def publish(self, feed):
        self.feeds.append(feed)
