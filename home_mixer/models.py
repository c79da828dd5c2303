"""The request (``FeedQuery``) and candidate (``PostCandidate``) types of the For You pipeline.

Both are MUTABLE dataclasses because the candidate_pipeline executor applies each stage's
returned fields with ``setattr`` (stages themselves never mutate them). Field names follow
X's ``models/query.rs`` and ``models/candidate.rs`` so a reader can map one to the other.
For a debug request every ranking decision is recorded in ``PostCandidate.explanation``: each
scorer returns a copy with its own part filled in, so the final record tells the whole story of
a score. Other requests leave it at the shared blank one: nobody reads it, and building ~2,200
copies per scorer was ~10 ms of every request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from home_mixer.action_scores import as_plain_dict
from home_mixer.bloom import BloomFilter
from protos import recsys_pb2 as rp

ServedType = int
"""A ``foryou.recsys.ServedType`` enum value (which source produced the candidate)."""


class ActionTerm(NamedTuple):
    """One weighted-score term: ``probability * weight = contribution``.

    A NamedTuple (immutable, attribute access) rather than a frozen dataclass: the weighted
    scorer creates ~25 per candidate, ~50,000 per request, and a tuple is ~5x cheaper to build.
    """

    action: str
    probability: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class ScoreExplanation:
    """Why a post got its score; each scorer fills its own part (``dataclasses.replace``).

    ``scored`` is False when the ranker produced no prediction for the post, which is
    different from a prediction of zero; ``note`` says which fallback then ordered it.
    """

    terms: Sequence[ActionTerm] = ()  # a tuple, or a ``score_terms.LazyTerms`` standing for one
    positive_sum: float = 0.0
    negative_sum: float = 0.0
    weighted_score: float | None = None
    cold_start_score: float | None = None
    author_diversity_multiplier: float = 1.0
    oon_multiplier: float = 1.0
    other_multipliers: dict[str, float] = field(default_factory=dict)
    final_score: float | None = None
    scored: bool = False
    note: str = ""
    predicted_dwell_s: float | None = None

    def evolve(self, **changes: Any) -> ScoreExplanation:
        """``dataclasses.replace`` for the scorers' hot loops (thousands of candidates per request).

        ``replace`` re-runs the frozen ``__init__`` (one ``object.__setattr__`` per field), about
        10x slower than copying the instance dict; the field names are checked all the same.
        """
        if not _EXPLANATION_FIELD_SET.issuperset(changes):  # no temporary set on the hot path
            raise TypeError(f"ScoreExplanation has no fields {sorted(changes.keys() - _EXPLANATION_FIELD_SET)}")
        new = object.__new__(ScoreExplanation)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def to_dict(self, with_terms: bool = True) -> dict[str, Any]:
        """JSON-ready form (terms as objects, or none), without ``dataclasses.asdict``'s deep copy."""
        out = {name: getattr(self, name) for name in _EXPLANATION_FIELDS}
        out["terms"] = tuple(t._asdict() for t in self.terms) if with_terms else ()
        out["other_multipliers"] = dict(self.other_multipliers)
        return out

    def with_multiplier(self, name: str, value: float, final_score: float | None) -> ScoreExplanation:
        """A copy recording a plugin/re-ranker multiplier (e.g. "topic_boost", "dpp")."""
        return self.evolve(other_multipliers={**self.other_multipliers, name: value}, final_score=final_score)


class _NoMultipliers(dict):  # type: ignore[type-arg]
    """The empty, unchangeable ``other_multipliers`` of the shared blank explanation."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("the blank explanation is shared: record a multiplier with with_multiplier()")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]


BLANK_EXPLANATION = ScoreExplanation(other_multipliers=_NoMultipliers())
"""What every new candidate's explanation starts as: ONE shared instance (explanations are
immutable; each scorer records its part in a copy), so the ~2,200 candidates a request creates do
not build ~2,200 blank ones (about half the cost of creating a candidate)."""


@dataclass(slots=True)
class PostCandidate:
    """One post in flight through the pipeline (X's ``PostCandidate``).

    Optional ids use None for "unknown" (not hydrated) and the sources use None rather than
    0 for "not a reply/repost". ``phoenix_scores`` is None until the ranker scored the post.
    Slotted: ~2,200 candidates x ~50 fields per request are read and set tens of thousands of
    times, and slot access is cheaper than an instance dict (and a typo'd field now raises).
    """

    tweet_id: int
    author_id: int = 0
    served_type: ServedType = rp.ServedType.UNDEFINED
    retweeted_tweet_id: int | None = None
    retweeted_user_id: int | None = None
    in_reply_to_tweet_id: int | None = None
    quoted_tweet_id: int | None = None
    quoted_user_id: int | None = None
    conversation_id: int | None = None
    ancestors: list[int] = field(default_factory=list)
    text: str | None = None
    created_at_ms: int | None = None
    language_code: str = ""
    core_data_hydrated: bool = False
    # network / author
    in_network: bool | None = None
    author_followers_count: int | None = None
    author_follows_viewer: bool | None = None
    is_mutual_follow: bool | None = None
    author_blocks_viewer: bool = False
    quoted_author_blocks_viewer: bool = False
    author_labels: list[str] = field(default_factory=list)
    # media / content
    has_video: bool = False
    has_media: bool = False
    min_video_duration_ms: int | None = None
    labels: list[str] = field(default_factory=list)
    subscription_author_id: int | None = None
    topic_id: int | None = None
    # engagement counts (of the original post for reposts)
    fav_count: int | None = None
    reply_count: int | None = None
    repost_count: int | None = None
    quote_count: int | None = None
    view_count: int | None = None
    bookmark_count: int | None = None
    # retrieval / ranking
    retrieval_score: float | None = None
    phoenix_scores: Mapping[str, float] | None = None  # a dict or an ``action_scores.ActionScores`` view
    predicted_dwell_s: float | None = None
    model_version: str = ""
    last_scored_at_ms: int | None = None
    weighted_score: float | None = None
    score: float | None = None
    ranking_fallback: bool = False
    explanation: ScoreExplanation = BLANK_EXPLANATION
    # visibility (post-selection)
    visibility_reason: str | None = None
    visibility_action: str = "allow"

    @property
    def is_repost(self) -> bool:
        return bool(self.retweeted_tweet_id)

    @property
    def is_reply(self) -> bool:
        return bool(self.in_reply_to_tweet_id)

    @property
    def original_tweet_id(self) -> int:
        """The post whose content is shown: the reposted post for a repost (X's get_original_tweet_id)."""
        return self.retweeted_tweet_id or self.tweet_id

    @property
    def original_author_id(self) -> int:
        return self.retweeted_user_id or self.author_id

    def related_ids(self) -> list[int]:
        """Ids a "seen"/"served" check must consider: the post, the reposted post, the parent."""
        return [i for i in (self.tweet_id, self.retweeted_tweet_id, self.in_reply_to_tweet_id) if i]

    def to_dict(self, with_terms: bool = True) -> dict[str, Any]:
        """JSON-ready form (the scored-candidate cache stores this), shaped as ``dataclasses.asdict``.
        ``with_terms=False`` leaves out the explanation's weighted-score terms.

        Written out by hand because ``asdict`` deep-copies recursively and costs ~1 ms per
        candidate; the cache serialises 750 candidates per request. Containers are copied one
        level deep (their elements are ints, strings and floats), so the dict shares nothing
        mutable with the candidate.
        """
        out = {name: getattr(self, name) for name in _CANDIDATE_FIELDS}
        for name in _LIST_FIELDS:
            out[name] = list(out[name])
        if self.phoenix_scores is not None:
            out["phoenix_scores"] = as_plain_dict(self.phoenix_scores)
        out["explanation"] = self.explanation.to_dict(with_terms)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PostCandidate:
        """Inverse of :meth:`to_dict`; unknown keys (from a newer writer) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        exp = values.get("explanation")
        if isinstance(exp, dict):
            exp = dict(exp)
            exp["terms"] = tuple(ActionTerm(**t) for t in exp.get("terms", ()))
            values["explanation"] = ScoreExplanation(**exp)
        return cls(**values)


_EXPLANATION_FIELDS = tuple(f.name for f in dataclasses.fields(ScoreExplanation))
_EXPLANATION_FIELD_SET = frozenset(_EXPLANATION_FIELDS)
_CANDIDATE_FIELDS = tuple(f.name for f in dataclasses.fields(PostCandidate))
_LIST_FIELDS = ("ancestors", "author_labels", "labels")


@dataclass
class FeedQuery:
    """One For You request plus everything the query hydrators add (X's ``ScoredPostsQuery``)."""

    viewer_id: int
    request_id: str = ""
    seen_ids: list[int] = field(default_factory=list)
    served_ids: list[int] = field(default_factory=list)
    in_network_only: bool = False
    exclude_videos: bool = False
    is_bottom_request: bool = False
    max_results: int = 35
    debug: bool = False
    now_ms: int = 0
    # hydrated
    scoring_sequence: rp.UserActionSequence | None = None
    retrieval_sequence: rp.UserActionSequence | None = None
    followed_user_ids: set[int] = field(default_factory=set)
    blocked_user_ids: set[int] = field(default_factory=set)
    muted_user_ids: set[int] = field(default_factory=set)
    muted_keywords: list[str] = field(default_factory=list)
    subscribed_user_ids: set[int] = field(default_factory=set)
    viewer_followers_count: int | None = None
    served_history_ids: set[int] = field(default_factory=set)
    impression_bloom: BloomFilter | None = None
    cached_posts: list[PostCandidate] = field(default_factory=list)
    has_cached_posts: bool = False
    degraded: list[str] = field(default_factory=list)

    @property
    def cache_variant(self) -> str:
        """The scored-candidate cache is per request shape, as X's key variants."""
        parts = [p for p, on in (("in_network", self.in_network_only), ("no_video", self.exclude_videos)) if on]
        return "+".join(parts) or "all"
