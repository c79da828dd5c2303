"""In-network candidates from Thunder (X's ThunderSource)."""

from __future__ import annotations

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, ThunderClient
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import THUNDER_MAX_RESULTS
from protos import recsys_pb2 as rp
from protos import thunder_pb2


def candidate_from_light_post(post: thunder_pb2.LightPost, served_type: int) -> PostCandidate:
    """X's mapping: ``retweeted_tweet_id = source_post_id``; ancestors = parent, then the root
    conversation when it differs from the parent."""
    reply_to = post.in_reply_to_post_id or None
    ancestors: list[int] = []
    if reply_to:
        ancestors.append(reply_to)
        if post.conversation_id and post.conversation_id != reply_to:
            ancestors.append(post.conversation_id)
    return PostCandidate(
        tweet_id=post.post_id,
        author_id=post.author_id,
        served_type=served_type,
        retweeted_tweet_id=post.source_post_id or None,
        retweeted_user_id=post.source_user_id or None,
        in_reply_to_tweet_id=reply_to,
        conversation_id=post.conversation_id or None,
        ancestors=ancestors,
        has_video=post.has_video,
        created_at_ms=post.created_at * 1000 if post.created_at else None,
    )


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
        posts = await self.thunder.get_in_network_posts(
            query.viewer_id, following, list(query.seen_ids), self.max_results, False
        )
        served = rp.ServedType.RANKED_FOLLOWING if query.in_network_only else rp.ServedType.FOR_YOU_IN_NETWORK
        return [candidate_from_light_post(p, served) for p in posts]


def build(deps: Deps, max_results: int = THUNDER_MAX_RESULTS) -> ThunderSource:
    return ThunderSource(deps.require("thunder"), max_results)  # type: ignore[arg-type]
