"""The action names home-mixer's weights may use, and their ``ActionName`` numbers.

Names follow X's ``PhoenixScores`` fields (reference §4.3.6). Every ranker head comes from
``phoenix/actions.py`` (the one model-side table); X's weighted scorer also carries weights for two
actions our ranker has no head for (``quoted_vqv``, ``post_unexplored``): they are accepted in a
config and contribute nothing until a model predicts them.
"""

from __future__ import annotations

from phoenix.actions import DISCRETE_ACTIONS as _RANKER_HEADS
from protos import recsys_pb2 as rp

A = rp.ActionName

WEIGHT_ONLY_ACTIONS: dict[str, int] = {
    "quoted_vqv": A.CLIENT_QUOTED_TWEET_VIDEO_QUALITY_VIEW,
    "post_unexplored": A.SERVER_TWEET_POST_UNEXPLORED,
}
"""In X's weight table, not predicted by our ranker."""

DISCRETE_ACTIONS: dict[str, int] = {h.name: h.action for h in _RANKER_HEADS} | WEIGHT_ONLY_ACTIONS
"""Discrete heads: probability of each action, by name."""

CONTINUOUS_ACTIONS: dict[str, int] = {
    "dwell_time": rp.ContinuousActionName.DWELL_TIME,
    "click_dwell_time": rp.ContinuousActionName.CLICK_DWELL_TIME,
    "active_secs_5m_residual_norm": rp.ContinuousActionName.ACTIVE_SECS_5M_RESIDUAL_NORM,
}
"""Continuous heads (dwell time in seconds, ...), by name."""

ALL_ACTIONS: frozenset[str] = frozenset(DISCRETE_ACTIONS) | frozenset(CONTINUOUS_ACTIONS)
