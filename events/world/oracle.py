"""The world's known truth: the probability that a user takes each action on a shown post.

Each action's probability is ``sigmoid(features @ weights[action])`` with the features below, so
evaluation can compare any model's predictions with the exact generating probabilities.
Features of (user, post, author, context):

* ``affinity``  — the user's interest in the post's topic relative to their top topic, in [0, 1];
* ``quality``   — the (source) post's quality: author quality plus per-post noise (spam is low);
* ``follows``   — 1 if the user follows the post's author at that moment;
* ``log_age``   — log1p(hours since creation) at impression time;
* ``position``  — rank in the shown feed (0 = top);
* ``is_reply``, ``is_repost``, ``spam``, ``nsfw``.

``video_view`` is 0 for posts without video and ``photo_expand`` 0 for posts without media.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from events.world.actions import ORACLE_ACTIONS
from events.world.posts import NSFW, SPAM, SPAM_QUALITY_PENALTY
from protos import recsys_pb2

FEATURES = ("bias", "affinity", "quality", "follows", "log_age", "position", "is_reply", "is_repost", "spam", "nsfw")

#                      bias  aff  qual follow age   pos    reply repost spam nsfw
_WEIGHTS: dict[str, tuple[float, ...]] = {
    "favorite":       (-4.2, 3.2, 0.5, 0.8, -0.15, -0.03, -0.4, 0.0, -2.0, -0.5),
    "reply":          (-6.2, 2.2, 0.3, 1.2, -0.20, -0.02, 0.5, -0.5, -1.0, 0.0),
    "repost":         (-5.6, 2.6, 0.6, 0.6, -0.15, -0.02, -0.6, 0.3, -2.0, -0.5),
    "quote":          (-7.2, 2.0, 0.4, 0.5, -0.15, -0.02, -0.3, 0.0, -1.0, 0.0),
    "click":          (-3.2, 2.0, 0.3, 0.3, -0.10, -0.03, 0.3, 0.0, -0.5, 0.3),
    "profile_click":  (-5.0, 1.5, 0.4, -0.6, -0.05, -0.02, 0.0, 0.0, -0.5, 0.0),
    "photo_expand":   (-2.6, 1.6, 0.3, 0.2, -0.05, -0.02, 0.0, 0.0, 0.0, 0.5),
    "video_view":     (-1.6, 2.2, 0.3, 0.3, -0.05, -0.03, 0.0, 0.0, -0.5, 0.3),
    "share":          (-6.6, 2.0, 0.5, 0.2, -0.20, -0.02, -0.3, 0.0, -2.0, -1.0),
    "share_via_dm":   (-7.0, 2.2, 0.4, 0.4, -0.20, -0.02, -0.3, 0.0, -2.0, -0.5),
    "copy_link":      (-7.6, 1.6, 0.5, 0.0, -0.20, -0.02, -0.3, 0.0, -2.0, -1.0),
    "dwell":          (-1.2, 3.0, 0.4, 0.3, -0.05, -0.02, 0.0, 0.0, -1.0, 0.0),
    "follow_author":  (-6.0, 2.6, 0.6, -9.0, -0.05, -0.02, 0.0, 0.0, -2.0, -0.5),
    "not_interested": (-4.6, -3.0, -0.5, -1.0, 0.05, 0.00, 0.0, 0.0, 2.0, 1.0),
    "mute":           (-7.2, -2.0, -0.5, -0.8, 0.00, 0.00, 0.0, 0.0, 1.5, 1.0),
    "block":          (-8.2, -2.0, -0.8, -1.5, 0.00, 0.00, 0.0, 0.0, 2.0, 1.5),
    "report":         (-8.8, -1.0, -0.5, -1.0, 0.00, 0.00, 0.0, 0.0, 3.5, 2.5),
}
WEIGHTS = np.array([_WEIGHTS[a] for a in ORACLE_ACTIONS], dtype=np.float64).T  # (features, actions)
_VIDEO = ORACLE_ACTIONS.index("video_view")
_PHOTO = ORACLE_ACTIONS.index("photo_expand")


@dataclass(frozen=True)
class ImpressionContext:
    """Where and when a post is shown. ``now_ms`` None = one hour after creation;
    ``follows_author`` None = the world's initial follow graph."""

    position: int = 0
    product_surface: int = recsys_pb2.HOME_TIMELINE_RANKING
    now_ms: int | None = None
    follows_author: bool | None = None


def oracle_matrix(*, affinity: np.ndarray, quality: np.ndarray, follows: np.ndarray, age_ms: np.ndarray,
                  position: np.ndarray, is_reply: np.ndarray, is_repost: np.ndarray, label: np.ndarray,
                  has_video: np.ndarray, has_media: np.ndarray) -> np.ndarray:
    """Probabilities (n, len(ORACLE_ACTIONS)) for n (user, post, context) rows."""
    n = len(affinity)
    x = np.empty((n, len(FEATURES)), dtype=np.float64)
    x[:, 0] = 1.0
    x[:, 1] = affinity
    x[:, 2] = quality
    x[:, 3] = follows
    x[:, 4] = np.log1p(np.maximum(age_ms, 0) / 3_600_000.0)
    x[:, 5] = position
    x[:, 6] = is_reply
    x[:, 7] = is_repost
    x[:, 8] = label == SPAM
    x[:, 9] = label == NSFW
    p = 1.0 / (1.0 + np.exp(-(x @ WEIGHTS)))
    p[:, _VIDEO] *= has_video
    p[:, _PHOTO] *= has_media
    return p


# Gauss-Hermite nodes/weights for E[f(Z)], Z ~ N(0, 1): exact for polynomials up to degree 47, far
# below float error for the smooth sigmoid of a Gaussian.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def expected_oracle_row(*, affinity: float, author_quality: float, noise_std: float, label_probs: np.ndarray,
                        follows: bool, age_ms: int, position: int, is_reply: bool, is_repost: bool,
                        has_video: bool, has_media: bool) -> np.ndarray:
    """``oracle_matrix`` of one impression averaged over what a request cannot know: the post's
    quality noise ``N(0, noise_std²)`` around its author's quality, and its safety label drawn
    from ``label_probs`` (one-hot = a known label). The best prediction (and so the best AUC)
    possible from the author, topic, follow state, age and post kind alone; shape
    ``(len(ORACLE_ACTIONS),)``."""
    labels = np.flatnonzero(label_probs)
    label = np.repeat(labels, len(_NODES))
    noise = np.tile(_NODES, len(labels))
    weight = np.repeat(label_probs[labels], len(_NODES)) * np.tile(_WEIGHTS, len(labels))
    n = len(label)
    quality = author_quality + noise_std * noise - SPAM_QUALITY_PENALTY * (label == SPAM)
    probs = oracle_matrix(
        affinity=np.full(n, affinity), quality=quality, follows=np.full(n, float(follows)),
        age_ms=np.full(n, age_ms), position=np.full(n, position), is_reply=np.full(n, is_reply),
        is_repost=np.full(n, is_repost), label=label, has_video=np.full(n, has_video),
        has_media=np.full(n, has_media),
    )
    return weight @ probs
