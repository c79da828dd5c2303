"""Action probabilities from the Phoenix ranker (X's PhoenixScorer).

A repost is scored as its ORIGINAL (the content the viewer sees), with the reposting post in
``retweeting_*``; the predictions are mapped back by the original id. When the call fails the
stage raises, the executor records the error and every candidate keeps
``phoenix_scores=None`` ("unscored"), which the later scorers treat differently from a
prediction of 0 (reference §1.2: failure -> scores left unset).

The candidates travel as columns (``PackedCandidates``) and the predictions come back as one
matrix (``phoenix.ranker.packed``): one TweetInfo message per candidate and one distribution
per answer cost ~30 ms of this process's Python per request for ~2,200 candidates. Each
candidate's ``phoenix_scores`` is a view of its row of that matrix (``action_scores.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from candidate_pipeline import BaseStage, Columns
from home_mixer.action_scores import ScoreTable
from home_mixer.deps import Deps, RankerClient
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import PHOENIX_CLIENT_MAX_CANDIDATES
from phoenix.ranker.packed import pack_candidates
from protos import recsys_pb2 as rp


def ranker_candidates(candidates: Sequence[PostCandidate], followed: set[int]) -> rp.PackedCandidates:
    """The ranker's view of the candidates (X's ``as_tweet_info``), as columns.

    A repost is sent as its original (id, author, and the original's counts, which the counts
    hydrator already fetched) with the reposting post in ``retweeting_*``; level 0 of the
    semantic ids is the post's topic, the only level we have. Each column is a comprehension
    over the candidates: CPython specialises their slot reads, ~2x faster than
    ``map(attrgetter(name), ...)`` over ~2,200 candidates.
    """
    originals = [c.retweeted_tweet_id or c.tweet_id for c in candidates]
    authors = [c.retweeted_user_id or c.author_id for c in candidates]
    reposts = [bool(c.retweeted_tweet_id) for c in candidates]
    columns: dict[str, list[int] | list[bool]] = {
        "tweet_id": originals,
        "author_id": authors,
        "is_author_followed_by_user": [a in followed for a in authors],
        "author_is_following_user": [bool(c.author_follows_viewer) for c in candidates],
        "fav_count": [c.fav_count or 0 for c in candidates],
        "reply_count": [c.reply_count or 0 for c in candidates],
        "retweet_count": [c.repost_count or 0 for c in candidates],
        "quote_count": [c.quote_count or 0 for c in candidates],
        "view_count": [c.view_count or 0 for c in candidates],
        "bookmark_count": [c.bookmark_count or 0 for c in candidates],
        "min_video_duration_ms": [c.min_video_duration_ms or 0 for c in candidates],
        "created_at_ms": [c.created_at_ms or 0 for c in candidates],
        "quoted_tweet_id": [c.quoted_tweet_id or 0 for c in candidates],
        "quoted_author_id": [c.quoted_user_id or 0 for c in candidates],
        "in_reply_to_tweet_id": [c.in_reply_to_tweet_id or 0 for c in candidates],
        "author_followers": [c.author_followers_count or 0 for c in candidates],
    }
    if any(reposts):
        columns["retweeting_tweet_id"] = [c.tweet_id if r else 0 for c, r in zip(candidates, reposts, strict=True)]
        columns["retweeting_author_id"] = [c.author_id if r else 0 for c, r in zip(candidates, reposts, strict=True)]
        columns["retweeted_tweet_id"] = [o if r else 0 for o, r in zip(originals, reposts, strict=True)]
    topics = np.array([c.topic_id or 0 for c in candidates], dtype=np.int32).reshape(-1, 1)
    return pack_candidates(columns, len(candidates), topics)


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
        surface = (
            rp.ProductSurface.HOME_TIMELINE_RANKED_FOLLOWING
            if query.in_network_only
            else rp.ProductSurface.HOME_TIMELINE_RANKING
        )
        sequence = query.scoring_sequence or rp.UserActionSequence(user_id=query.viewer_id)
        predicted = await self.ranker.predict_packed(
            sequence, ranker_candidates(batch, query.followed_user_ids), surface
        )
        # X looks predictions up by the shown post's id: a repost gets its original's (the last
        # answer for an id wins, as in X's map).
        row_of = dict(zip(predicted.tweet_ids.tolist(), range(len(predicted)), strict=True))
        shown = [c.retweeted_tweet_id or c.tweet_id for c in candidates]
        rows = [i for i, p in enumerate(shown) if p in row_of]
        source = [row_of[shown[i]] for i in rows]
        names: tuple[str, ...] = predicted.actions
        values = predicted.probabilities[source]
        dwells: list[float] | list[None] = [None] * len(rows)
        if predicted.dwell_s is not None:
            dwell = predicted.dwell_s[source]
            names += ("dwell_time",)
            values = np.column_stack([values, dwell])
            dwells = dwell.tolist()
        all_scores = ScoreTable(names, values).views()  # row k is candidate rows[k]'s
        n = len(rows)
        columns: dict[str, list[Any]] = {
            "phoenix_scores": all_scores,
            "predicted_dwell_s": dwells,
            "model_version": [predicted.version] * n,
            "last_scored_at_ms": [query.now_ms] * n,
        }
        if query.debug:  # explanations are for debug responses only
            columns["explanation"] = [
                candidates[i].explanation.evolve(scored=True, predicted_dwell_s=d)
                for i, d in zip(rows, dwells, strict=True)
            ]
        return Columns(len(candidates), columns, rows=rows)


def build(deps: Deps, max_candidates: int = PHOENIX_CLIENT_MAX_CANDIDATES) -> PhoenixScorer:
    return PhoenixScorer(deps.require("ranker"), max_candidates)  # type: ignore[arg-type]
