"""X's [Aug] default action weights (``home-mixer/params/param.rs``) and the sums the offset rule uses.

Weights multiply predicted PROBABILITIES, not counts: P(report) is >1000x rarer than P(like),
which is why the negative weights are large. ``dwell_time`` is the continuous predicted dwell
(seconds) and does not enter the positive/negative sums.
"""

from __future__ import annotations

from collections.abc import Mapping

from home_mixer.actions import ALL_ACTIONS, CONTINUOUS_ACTIONS

DEFAULT_WEIGHTS: dict[str, float] = {
    "favorite": 0.5,
    "reply": 5.0,
    "repost": 1.0,
    "photo_expand": 0.05,
    "video_open": 0.05,
    "click": 0.4,
    "open_link": 0.2,
    "profile_click": 0.0,
    "vqv": 0.05,
    "share": 2.0,
    "share_via_dm": 5.0,
    "share_via_copy_link": 20.0,
    "dwell": 0.0,
    "quote": 5.0,
    "quoted_click": 0.05,
    "quoted_vqv": 0.0,
    "follow_author": 4.0,
    "post_unexplored": 0.02,
    "dwell_time": 0.004,
    "click_dwell_time": 0.0,
    "active_secs_5m_residual_norm": 0.0,
    "not_interested": -43.2,
    "block_author": -31.2,
    "mute_author": -58.8,
    "report": -234.0,
    "not_dwelled": -0.02,
}


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Defaults overridden by ``weights``; unknown action names are a configuration error."""
    unknown = sorted(set(weights) - ALL_ACTIONS)
    if unknown:
        raise ValueError(f"unknown action names in weights: {unknown}; known: {sorted(ALL_ACTIONS)}")
    merged = dict(DEFAULT_WEIGHTS)
    merged.update({k: float(v) for k, v in weights.items()})
    return merged


def weight_sums(weights: Mapping[str, float]) -> tuple[float, float, float]:
    """(positive_sum, negative_sum, total_sum) over the DISCRETE actions' base weights.

    With the defaults: 43.32, 367.22 and 410.54 (reference §6.1).
    """
    discrete = {k: w for k, w in weights.items() if k not in CONTINUOUS_ACTIONS}
    positive = sum(w for w in discrete.values() if w > 0)
    negative = -sum(w for w in discrete.values() if w < 0)
    return positive, negative, positive + negative
