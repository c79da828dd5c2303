"""Publish what was served to the ``served`` topic (replay evaluation and training read it).

Carries the selected candidates and the best ``max_non_selected`` (500) of the others by score
(unscored last), each with its position, scores and action probabilities, so a training example
can pair "shown at rank r with these predictions" with the engagement that followed. The cap
keeps an event near 120 KB instead of ~1.3 MB for ~2,000 candidates: building and serialising
the rest cost ~60 ms of the event loop per request (and the broker ack then often missed the
1 s stage timeout), while candidates ranked below 550 are the ones replay and training learn
least from. ``max_non_selected`` is a pipeline parameter; a large value restores "all".

The probabilities travel as ONE matrix on the feed (``ServedFeed.probabilities``, its columns
``probability_actions``, a row per candidate with ``has_probabilities``) written by numpy in one
pass: ~22 map entries per candidate were ~1 ms of building and ~165 KB of repeated action names
per event. Predictions that do not all name the same actions in the same order (never the
ranker's) still go in each candidate's ``action_probabilities`` map, as every event before the
matrix did; :func:`candidate_probabilities` reads either form.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from itertools import chain
from operator import attrgetter

import numpy as np

from candidate_pipeline import BaseStage, SideEffectInput
from home_mixer.action_scores import as_plain_dict, shared_table
from home_mixer.deps import Deps, ServedPublisher
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.proto_wire import packed_doubles
from protos import events_pb2

PIPELINE_NAME = "for_you"
MAX_NON_SELECTED = 500
ACK_TIMEOUT_S = 10.0
"""The side effect waits for the broker's ack; a slow broker must not be reported as a failure
after the default 1 s stage timeout (the publisher's own ack timeout is 10 s)."""


def add_served_candidate(
    add: Callable[..., events_pb2.ServedCandidate], c: PostCandidate, selected: bool, position: int,
    in_matrix: bool = False,
) -> events_pb2.ServedCandidate:
    """Append ``c`` through ``add`` (a feed's ``candidates.add``, looked up once per feed), built
    in place: constructing a free-standing message and passing the list to
    ``ServedFeed(candidates=...)`` deep-copied every candidate. ``in_matrix``: its action
    probabilities are a row of the feed's ``probabilities`` matrix, else they go in its own
    ``action_probabilities`` map (when it has any)."""
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
        has_probabilities=in_matrix,
    )
    if not in_matrix and c.phoenix_scores:
        served.action_probabilities.update(as_plain_dict(c.phoenix_scores))
    return served


_MATRIX_FIELD = events_pb2.ServedFeed.DESCRIPTOR.fields_by_name["probabilities"].number


def probability_matrix(candidates: Sequence[PostCandidate]) -> tuple[tuple[str, ...], np.ndarray] | None:
    """(action names, float64 matrix with one row per scored candidate, in order) when every
    scored candidate's predictions name the same actions in the same order (views of one ranker
    matrix, or equal-keyed dicts, e.g. replayed from the cache), else None (written per candidate).
    No candidate scored: an empty matrix of no actions."""
    scored = [s for s in map(_SCORES, candidates) if s is not None]
    shared = shared_table(scored)
    if shared is not None:
        table, rows = shared
        return table.names, table.values[np.asarray(rows, dtype=np.intp)]
    if not scored:
        return (), np.zeros((0, 0))
    names = tuple(scored[0])
    if any(tuple(s) != names for s in scored):
        return None
    flat = np.fromiter(chain.from_iterable(s.values() for s in scored), dtype=np.float64, count=len(scored) * len(names))
    return names, flat.reshape(len(scored), len(names))


_SCORES = attrgetter("phoenix_scores")


def candidate_probabilities(feed: events_pb2.ServedFeed) -> list[dict[str, float]]:
    """Each candidate's action probabilities (empty when unscored), from either form: the
    feed's ``probabilities`` matrix (rows of the candidates with ``has_probabilities``) or the
    candidates' own ``action_probabilities`` maps (events written before the matrix existed)."""
    names = list(feed.probability_actions)
    flagged = sum(c.has_probabilities for c in feed.candidates)
    width = len(names)
    if len(feed.probabilities) != flagged * width:
        raise ValueError(f"served event {feed.event_id!r}: {len(feed.probabilities)} probabilities for "
                         f"{flagged} scored candidates x {width} actions")
    rows = iter(np.asarray(feed.probabilities, dtype=np.float64).reshape(flagged, width).tolist() if flagged else ())
    return [dict(zip(names, next(rows), strict=True)) if c.has_probabilities else dict(c.action_probabilities)
            for c in feed.candidates]


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
    matrix = probability_matrix([*selected, *non_selected])
    in_matrix = matrix is not None
    for i, c in enumerate(selected):
        add_served_candidate(add, c, True, i, in_matrix and c.phoenix_scores is not None)
    for c in non_selected:
        add_served_candidate(add, c, False, -1, in_matrix and c.phoenix_scores is not None)
    if matrix is not None and matrix[1].size:
        feed.probability_actions.extend(matrix[0])
        feed.MergeFromString(packed_doubles(_MATRIX_FIELD, matrix[1]))
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
