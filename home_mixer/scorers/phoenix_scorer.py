"""Action probabilities from the Phoenix ranker (X's PhoenixScorer).

A repost is scored as its ORIGINAL (the content the viewer sees), with the reposting post in
``retweeting_*``; the predictions are mapped back by the original id. When the call fails the
stage raises, the executor records the error and every candidate keeps
``phoenix_scores=None`` ("unscored"), which the later scorers treat differently from a
prediction of 0 (reference §1.2: failure -> scores left unset).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage, Columns
from home_mixer.deps import Deps, RankerClient
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import PHOENIX_CLIENT_MAX_CANDIDATES
from protos import recsys_pb2 as rp


def tweet_info(c: PostCandidate, viewer_follows_author: bool) -> rp.TweetInfo:
    """The ranker's view of a candidate (X's ``as_tweet_info``)."""
    info = rp.TweetInfo(
        tweet_id=c.original_tweet_id,
        author_id=c.original_author_id,
        quoted_tweet_id=c.quoted_tweet_id or 0,
        quoted_author_id=c.quoted_user_id or 0,
        in_reply_to_tweet_id=c.in_reply_to_tweet_id or 0,
        is_author_followed_by_user=viewer_follows_author,
        min_video_duration_ms=c.min_video_duration_ms or 0,
        fav_count=c.fav_count or 0,
        reply_count=c.reply_count or 0,
        retweet_count=c.repost_count or 0,
        quote_count=c.quote_count or 0,
        view_count=c.view_count or 0,
        bookmark_count=c.bookmark_count or 0,
        created_at_ms=c.created_at_ms or 0,
        # Content code (X's semanticIds); level 0 = the post's topic, the only level we have.
        semantic_ids=[c.topic_id] if c.topic_id else [],
        author_info=rp.AuthorInfo(
            author_id=c.original_author_id,
            is_followed_by_user=viewer_follows_author,
            followers=c.author_followers_count or 0,
            is_following_user=bool(c.author_follows_viewer),
        ),
    )
    if c.is_repost:
        info.retweeting_tweet_id = c.tweet_id
        info.retweeting_author_id = c.author_id
        info.retweeted_tweet_id = c.original_tweet_id
    return info


_FLOATS_ONLY = {float}


def _float_copy(probabilities: dict[str, Any]) -> dict[str, float]:
    """A copy with float values: a plain C-level copy when they already are floats (the real
    client's), converted otherwise (e.g. numpy scalars from another client)."""
    if set(map(type, probabilities.values())) == _FLOATS_ONLY:
        return dict(probabilities)
    return {k: float(v) for k, v in probabilities.items()}


class PhoenixScorer(BaseStage):
    def __init__(self, ranker: RankerClient, max_candidates: int = PHOENIX_CLIENT_MAX_CANDIDATES) -> None:
        self.ranker = ranker
        self.max_candidates = max_candidates

    def enable(self, query: FeedQuery) -> bool:
        return not query.has_cached_posts

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns | list[Any]:
        if not candidates:
            return []
        batch = candidates[: self.max_candidates]  # the rest stay unscored, as X's client cap
        infos = [tweet_info(c, c.original_author_id in query.followed_user_ids) for c in batch]
        surface = (
            rp.ProductSurface.HOME_TIMELINE_RANKED_FOLLOWING
            if query.in_network_only
            else rp.ProductSurface.HOME_TIMELINE_RANKING
        )
        sequence = query.scoring_sequence or rp.UserActionSequence(user_id=query.viewer_id)
        probs, dwell, version = await self.ranker.predict(sequence, infos, surface)
        shown = [c.original_tweet_id for c in candidates]
        rows = [i for i, p in enumerate(shown) if p in probs]
        all_scores: list[dict[str, float]] = []
        dwells: list[float | None] = []
        explanations = []
        for i in rows:
            p = probs[shown[i]]
            scores = _float_copy(p)  # each candidate its own copy (reposts share one)
            d = dwell.get(shown[i])
            if d is not None:
                d = scores["dwell_time"] = float(d)
            all_scores.append(scores)
            dwells.append(d)
            explanations.append(candidates[i].explanation.evolve(scored=True, predicted_dwell_s=d))
        n = len(rows)
        return Columns(
            len(candidates),
            {
                "phoenix_scores": all_scores,
                "predicted_dwell_s": dwells,
                "model_version": [version] * n,
                "last_scored_at_ms": [query.now_ms] * n,
                "explanation": explanations,
            },
            rows=rows,
        )


def build(deps: Deps, max_candidates: int = PHOENIX_CLIENT_MAX_CANDIDATES) -> PhoenixScorer:
    return PhoenixScorer(deps.require("ranker"), max_candidates)  # type: ignore[arg-type]
