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
from operator import attrgetter
from typing import Any

import numpy as np

from candidate_pipeline import BaseStage, Columns
from home_mixer.action_scores import ScoreTable
from home_mixer.deps import Deps, RankerClient
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import PHOENIX_CLIENT_MAX_CANDIDATES
from phoenix.ranker.packed import pack_candidates
from protos import recsys_pb2 as rp

_COPIED = (("fav_count", "fav_count"), ("reply_count", "reply_count"), ("retweet_count", "repost_count"),
           ("quote_count", "quote_count"), ("view_count", "view_count"), ("bookmark_count", "bookmark_count"),
           ("min_video_duration_ms", "min_video_duration_ms"), ("created_at_ms", "created_at_ms"),
           ("quoted_tweet_id", "quoted_tweet_id"), ("quoted_author_id", "quoted_user_id"),
           ("in_reply_to_tweet_id", "in_reply_to_tweet_id"), ("author_followers", "author_followers_count"))
"""(PackedCandidates column, PostCandidate field) pairs copied as they are, None as 0."""


_READ = ("tweet_id", "author_id", "retweeted_tweet_id", "retweeted_user_id", "author_follows_viewer", "topic_id",
         *(field for _, field in _COPIED))
_READER = attrgetter(*_READ)


def _ints(values: tuple[Any, ...]) -> tuple[Any, ...] | list[int] | None:
    """A column with None as 0, or None when every value is None (a column left out is all 0)."""
    if None not in values:
        return values
    if values.count(None) == len(values):
        return None
    return [v or 0 for v in values]


def ranker_candidates(candidates: Sequence[PostCandidate], followed: set[int]) -> rp.PackedCandidates:
    """The ranker's view of the candidates (X's ``as_tweet_info``), as columns.

    A repost is sent as its original (id, author, and the original's counts, which the counts
    hydrator already fetched) with the reposting post in ``retweeting_*``; level 0 of the
    semantic ids is the post's topic, the only level we have. Every field is read in ONE
    C-level pass (a multi-field ``attrgetter``, then transposed): a pass per field over ~2,200
    candidates was ~2 ms per request.
    """
    if not candidates:
        return pack_candidates({}, 0, np.zeros((0, 1), dtype=np.int32))
    tweet, author, reposted, reposted_author, follows, topic, *copied = zip(*map(_READER, candidates), strict=True)
    originals = [r or t for r, t in zip(reposted, tweet, strict=True)]
    authors = [u or a for u, a in zip(reposted_author, author, strict=True)]
    columns: dict[str, Any] = {
        "tweet_id": originals,
        "author_id": authors,
        "is_author_followed_by_user": list(map(followed.__contains__, authors)),
        "author_is_following_user": _ints(follows),
    }
    for (column, _), values in zip(_COPIED, copied, strict=True):
        columns[column] = _ints(values)
    if any(reposted):
        columns["retweeting_tweet_id"] = [t if r else 0 for t, r in zip(tweet, reposted, strict=True)]
        columns["retweeting_author_id"] = [a if r else 0 for a, r in zip(author, reposted, strict=True)]
        columns["retweeted_tweet_id"] = _ints(reposted)
    topics = _ints(topic)
    semantic = np.zeros((len(candidates), 1), dtype=np.int32) if topics is None else \
        np.array(topics, dtype=np.int32).reshape(-1, 1)
    return pack_candidates({k: v for k, v in columns.items() if v is not None}, len(candidates), semantic)


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
