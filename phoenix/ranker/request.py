"""``PredictNextActionsRequest`` <-> engine inputs/outputs, with input validation.

X's home-mixer sends one ``UserActionSequence`` per user (the engagement history, oldest first)
and one ``CandidateSet`` per user. Sequences are matched to candidate sets by ``user_id``; a
user without a sequence is a new user (empty history). Anything malformed raises
``InvalidRequest`` with a message that names the offending field, which the server returns as
INVALID_ARGUMENT. A candidate set carries either TweetInfos (X's layout, answered with one
``NextActionDistribution`` each) or ``PackedCandidates`` columns (``packed.py``, answered with one
score matrix).
"""

from __future__ import annotations

import numpy as np

from phoenix.actions import CONTINUOUS_SLOTS
from phoenix.ranker.engine import ScoreRequest, ScoreResult
from phoenix.ranker.features import CandidateColumns, CandidateItem, HistoryItem, UserContext
from phoenix.ranker.packed import INT64, PackingError, candidate_columns, pack_distributions
from protos import recsys_pb2 as pb


class InvalidRequest(ValueError):
    pass


def history_from_sequence(seq: pb.UserActionSequence) -> list[HistoryItem]:
    items = []
    for i, ua in enumerate(seq.user_actions):
        t = ua.tweet_info
        if t.tweet_id <= 0:
            raise InvalidRequest(
                f"sequence for user {seq.user_id}: user_actions[{i}].tweet_info.tweet_id must be > 0"
            )
        actions = tuple(sorted({int(a.action_name) for a in ua.actions if a.action_name}))
        dwell = max((a.dwell_time_ms for a in ua.actions), default=0)
        surface = next((int(a.product_surface) for a in ua.actions if a.product_surface), 0)
        items.append(
            HistoryItem(t.tweet_id, max(t.author_id, 0), actions, max(dwell, 0), surface, tuple(t.semantic_ids))
        )
    return items


def candidate_from_tweet_info(t: pb.TweetInfo, surface: int) -> CandidateItem:
    """The same features training reads from the event log: follow flag, engagement counts so
    far (fav, reply, repost, quote, views), the post kind and its semantic ids."""
    counts = (t.fav_count, t.reply_count, t.retweet_count, t.quote_count, t.view_count)
    return CandidateItem(
        t.tweet_id,
        t.author_id,
        max(t.created_at_ms, 0),
        t.is_author_followed_by_user or t.author_info.is_followed_by_user,
        surface,
        tuple(max(int(x), 0) for x in counts),  # type: ignore[arg-type]
        is_reply=t.in_reply_to_tweet_id > 0,
        is_retweet=t.retweeting_tweet_id > 0 or t.retweeted_tweet_id > 0,
        is_quote=t.quoted_tweet_id > 0,
        has_video=t.min_video_duration_ms > 0,
        semantic_ids=tuple(t.semantic_ids),
    )


def to_score_requests(
    request: pb.PredictNextActionsRequest, now_ms: int, max_candidates: int
) -> list[ScoreRequest]:
    if not request.candidate_sets:
        raise InvalidRequest("candidate_sets is empty: nothing to score")
    sequences: dict[int, pb.UserActionSequence] = {}
    for seq in request.sequences:
        if seq.user_id in sequences:
            raise InvalidRequest(f"two sequences for user {seq.user_id}")
        sequences[seq.user_id] = seq
    out = []
    for k, cs in enumerate(request.candidate_sets):
        if cs.user_id <= 0:
            raise InvalidRequest(f"candidate_sets[{k}].user_id must be > 0")
        cands = _packed_candidates(k, cs, max_candidates) if cs.HasField("packed") else _tweet_info_candidates(
            k, cs, max_candidates
        )
        seq = sequences.get(cs.user_id)
        history = history_from_sequence(seq) if seq is not None else []
        out.append(ScoreRequest(UserContext(cs.user_id, history), cands, now_ms))
    return out


def _tweet_info_candidates(k: int, cs: pb.CandidateSet, max_candidates: int) -> list[CandidateItem]:
    if len(cs.candidates) > max_candidates:
        raise InvalidRequest(
            f"candidate_sets[{k}] has {len(cs.candidates)} candidates; at most {max_candidates} allowed"
        )
    cands = []
    for j, t in enumerate(cs.candidates):
        if t.tweet_id <= 0 or t.author_id < 0:
            raise InvalidRequest(f"candidate_sets[{k}].candidates[{j}]: tweet_id must be > 0 and author_id >= 0")
        cands.append(candidate_from_tweet_info(t, int(cs.product_surface)))
    return cands


def _packed_candidates(k: int, cs: pb.CandidateSet, max_candidates: int) -> CandidateColumns:
    if cs.candidates:
        raise InvalidRequest(f"candidate_sets[{k}] has both candidates and packed: send one")
    if cs.packed.count > max_candidates:
        raise InvalidRequest(
            f"candidate_sets[{k}].packed has {cs.packed.count} candidates; at most {max_candidates} allowed"
        )
    try:
        return candidate_columns(cs.packed, int(cs.product_surface))
    except PackingError as exc:
        raise InvalidRequest(f"candidate_sets[{k}].packed: {exc}") from None


def to_distribution_set(
    cs: pb.CandidateSet, result: ScoreResult, checkpoint: str
) -> pb.CandidateDistributionSet:
    """The answer for one candidate set, in the layout it was asked in."""
    if cs.HasField("packed"):
        ids = np.frombuffer(cs.packed.tweet_id, dtype=INT64)  # validated by to_score_requests
        return pb.CandidateDistributionSet(
            user_id=cs.user_id, checkpoint_path=checkpoint,
            packed=pack_distributions(ids, result.log_probs, result.dwell_s),
        )
    dists = []
    for j, t in enumerate(cs.candidates):
        cont = [0.0] * CONTINUOUS_SLOTS
        cont[pb.DWELL_TIME] = float(result.dwell_s[j])
        dists.append(
            pb.NextActionDistribution(
                candidate=t, top_log_probs=result.log_probs[j].tolist(), continuous_actions_values=cont
            )
        )
    return pb.CandidateDistributionSet(
        user_id=cs.user_id, candidate_distributions=dists, checkpoint_path=checkpoint
    )
