"""Publish what was served to the ``served`` topic (replay evaluation and training read it).

Carries the selected candidates and the best ``max_non_selected`` (500) of the others by score
(unscored last), each with its position, scores and action probabilities, so a training example
can pair "shown at rank r with these predictions" with the engagement that followed. The cap
keeps an event near 360 KB instead of ~1.3 MB for ~2,000 candidates: building and serialising
the rest cost ~60 ms of the event loop per request (and the broker ack then often missed the
1 s stage timeout), while candidates ranked below 550 are the ones replay and training learn
least from. ``max_non_selected`` is a pipeline parameter; a large value restores "all".
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence

import numpy as np

from candidate_pipeline import BaseStage, SideEffectInput
from home_mixer.action_scores import as_plain_dict, shared_table
from home_mixer.deps import Deps, ServedPublisher
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.proto_maps import double_map_rows
from protos import events_pb2

PIPELINE_NAME = "for_you"
MAX_NON_SELECTED = 500
ACK_TIMEOUT_S = 10.0
"""The side effect waits for the broker's ack; a slow broker must not be reported as a failure
after the default 1 s stage timeout (the publisher's own ack timeout is 10 s)."""


def add_served_candidate(
    add: Callable[..., events_pb2.ServedCandidate], c: PostCandidate, selected: bool, position: int,
    probabilities: bytes | None = None,
) -> events_pb2.ServedCandidate:
    """Append ``c`` through ``add`` (a feed's ``candidates.add``, looked up once per feed), built
    in place: constructing a free-standing message and passing the list to
    ``ServedFeed(candidates=...)`` deep-copied every candidate with its ~25 action
    probabilities, half the cost of building the event. ``probabilities``: the serialised
    ``action_probabilities`` (:func:`probability_maps`), else they are read from ``c``."""
    served = add(
        post_id=c.tweet_id,
        author_id=c.author_id,
        served_type=c.served_type,
        in_network=bool(c.in_network),
        selected=selected,
        position=position,
        score=math.nan if c.score is None else c.score,
        weighted_score=math.nan if c.weighted_score is None else c.weighted_score,
        retweeted_post_id=c.retweeted_tweet_id or 0,
    )
    if probabilities is not None:
        served.MergeFromString(probabilities)
    elif c.phoenix_scores:
        served.action_probabilities.update(as_plain_dict(c.phoenix_scores))
    return served


_PROBABILITIES_FIELD = events_pb2.ServedCandidate.DESCRIPTOR.fields_by_name["action_probabilities"].number


def probability_maps(candidates: Sequence[PostCandidate]) -> list[bytes | None]:
    """Each candidate's serialised ``action_probabilities`` when the scores are views of one
    ranker matrix (every row the same keys: written column-wise), else None for each (read one
    by one)."""
    scores = [c.phoenix_scores for c in candidates]
    shared = shared_table([s for s in scores if s is not None])
    if shared is None:
        return [None] * len(candidates)
    table, rows = shared
    maps = iter(double_map_rows(_PROBABILITIES_FIELD, table.names, table.values[np.asarray(rows, dtype=np.intp)]))
    return [None if s is None else next(maps) for s in scores]


def best_non_selected(non_selected: list[PostCandidate], limit: int) -> list[PostCandidate]:
    """The ``limit`` highest-scored candidates, best first (unscored after every scored one)."""
    if len(non_selected) <= limit:
        return non_selected
    scores = [c.score for c in non_selected]
    # ``heapq.nlargest(limit, key=(scored, score))``: a stable sort of the scored by score, then
    # the unscored in their order; the scores' own getter as key instead of a tuple per candidate
    scored = sorted((i for i, s in enumerate(scores) if s is not None), key=scores.__getitem__, reverse=True)
    unscored = [i for i, s in enumerate(scores) if s is None]
    return [non_selected[i] for i in (scored + unscored)[:limit]]


def served_feed(query: FeedQuery, selected: list[PostCandidate], non_selected: list[PostCandidate]) -> events_pb2.ServedFeed:
    version = next((c.model_version for c in selected if c.model_version), "")
    feed = events_pb2.ServedFeed(
        event_id=query.request_id,
        request_id=query.request_id,
        viewer_id=query.viewer_id,
        served_at_ms=query.now_ms,
        pipeline=PIPELINE_NAME,
        model_version=version,
        in_network_only=query.in_network_only,
        degraded=list(query.degraded),
    )
    add = feed.candidates.add
    maps = probability_maps([*selected, *non_selected])
    for i, (c, m) in enumerate(zip(selected, maps, strict=False)):
        add_served_candidate(add, c, True, i, m)
    for c, m in zip(non_selected, maps[len(selected):], strict=True):
        add_served_candidate(add, c, False, -1, m)
    return feed


class ServedEventSideEffect(BaseStage):
    timeout_s = ACK_TIMEOUT_S

    def __init__(self, publisher: ServedPublisher, max_non_selected: int = MAX_NON_SELECTED) -> None:
        if max_non_selected < 0:
            raise ValueError(f"max_non_selected must be >= 0, got {max_non_selected}")
        self.publisher = publisher
        self.max_non_selected = max_non_selected

    async def run(self, inp: SideEffectInput) -> None:
        # ~2.5 ms of ranking and message building per feed: in a worker thread it mostly runs while
        # the event loop waits on I/O instead of holding up the next request's stages (reads only).
        feed = await asyncio.to_thread(self.event, inp)
        await self.publisher.publish(feed)

    def event(self, inp: SideEffectInput) -> events_pb2.ServedFeed:
        """The ``served`` event of ``inp``: the selected and the best ``max_non_selected`` others."""
        return served_feed(inp.query, inp.selected, best_non_selected(inp.non_selected, self.max_non_selected))


def build(deps: Deps, max_non_selected: int = MAX_NON_SELECTED) -> ServedEventSideEffect:
    return ServedEventSideEffect(deps.require("served_publisher"), max_non_selected)  # type: ignore[arg-type]
