"""In-network candidates from Thunder (X's ThunderSource).

Thunder answers ~1,200 posts per request. Reading them as ``LightPost`` messages (a field read
per post and field) cost ~5 ms of the event loop per request, so the source asks for packed
columns (:meth:`thunder.client.ThunderClient.get_in_network_columns`) and turns each column
into a Python list at once; the only per-post Python left is the candidate's constructor. A
client offering only X's ``get_in_network_posts`` (a fake, replay's in-process Thunder) is read
the same way after its messages are turned into columns.
"""

from __future__ import annotations

import numpy as np

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, ThunderClient
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import THUNDER_MAX_RESULTS
from protos import recsys_pb2 as rp
from thunder.light_posts import LightPosts
from thunder.post_table import HAS_VIDEO


def _or_none(column: np.ndarray) -> list[int | None]:
    """The column as Python ints, None where 0 (unset)."""
    if not column.any():
        return [None] * len(column)
    return np.where(column != 0, column, None).tolist()


def _ancestors(reply_to: np.ndarray, conversation: np.ndarray) -> list[list[int]]:
    """Per post: [] (not a reply), [parent], or [parent, root] when the root differs (a fresh
    list each; only the replies are looked at one by one)."""
    out: list[list[int]] = [[] for _ in range(len(reply_to))]
    replies = np.flatnonzero(reply_to)
    roots = conversation[replies]
    parents = reply_to[replies]
    for i, parent, root in zip(replies.tolist(), parents.tolist(), np.where(roots != parents, roots, 0).tolist(),
                               strict=True):
        out[i] = [parent, root] if root else [parent]
    return out


def candidates_from_columns(posts: LightPosts, served_type: int) -> list[PostCandidate]:
    """X's mapping of Thunder's light posts to candidates (``retweeted_tweet_id = source_post_id``;
    ancestors = the parent, then the root conversation when it differs from the parent; 0 = unset
    -> None), each field converted a column at a time (tests compare it with a per-post
    reference of the same mapping)."""
    cols = posts.columns
    reply_to = cols["in_reply_to_post_id"]
    created = cols["created_at"].tolist()
    fields = zip(
        cols["post_id"].tolist(),
        cols["author_id"].tolist(),
        _or_none(cols["source_post_id"]),
        _or_none(cols["source_user_id"]),
        _or_none(reply_to),
        _or_none(cols["conversation_id"]),
        _ancestors(reply_to, cols["conversation_id"]),
        ((posts.flags & HAS_VIDEO) != 0).tolist(),
        [c * 1000 if c else None for c in created],  # (Python ints: no int64 overflow)
        strict=True,
    )
    # positional up to created_at_ms (a fifth cheaper than keywords; the tests compare every
    # field with a per-post reference): tweet, author, served type, retweeted tweet and
    # user, parent, quoted tweet and user, conversation, ancestors, text, created_at_ms
    return [
        PostCandidate(post_id, author_id, served_type, source_post, source_user, parent, None, None, conversation,
                      ancestors, None, created_ms, has_video=video)
        for post_id, author_id, source_post, source_user, parent, conversation, ancestors, video, created_ms in fields
    ]


class ThunderSource(BaseStage):
    """Recent posts of followed accounts, excluding the client's seen ids."""

    def __init__(self, thunder: ThunderClient, max_results: int = THUNDER_MAX_RESULTS) -> None:
        self.thunder = thunder
        self.max_results = max_results

    def enable(self, query: FeedQuery) -> bool:
        return not query.has_cached_posts

    async def get_candidates(self, query: FeedQuery) -> list[PostCandidate]:
        following = sorted(query.followed_user_ids)
        if not following:
            return []
        args = (query.viewer_id, following, list(query.seen_ids), self.max_results, False)
        fetch_columns = getattr(self.thunder, "get_in_network_columns", None)
        if fetch_columns is not None:
            posts = await fetch_columns(*args)
        else:
            posts = LightPosts.from_messages(await self.thunder.get_in_network_posts(*args))
        served = rp.ServedType.RANKED_FOLLOWING if query.in_network_only else rp.ServedType.FOR_YOU_IN_NETWORK
        return candidates_from_columns(posts, served)


def build(deps: Deps, max_results: int = THUNDER_MAX_RESULTS) -> ThunderSource:
    return ThunderSource(deps.require("thunder"), max_results)  # type: ignore[arg-type]
