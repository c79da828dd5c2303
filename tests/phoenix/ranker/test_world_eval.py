"""Quality against the synthetic world's truth: the oracles the ranker's AUC is judged against."""

from __future__ import annotations

import numpy as np
import pytest

from phoenix.ranker.evaluate import oracle_aucs, oracle_probabilities
from phoenix.ranker.world_eval import REPORT_ACTIONS, world_split


@pytest.fixture(scope="module")
def split():
    return world_split("tiny", history_len=16, max_candidates=8)


def test_information_limited_oracle_is_a_lower_ceiling(split) -> None:
    """Hiding the posts' quality noise and labels costs the oracle AUC (it cannot gain it), and the
    position-blind, knowable oracles still rank far better than chance."""
    full = oracle_aucs(split.valid, split.oracle_no_position, REPORT_ACTIONS)
    knowable = oracle_aucs(split.valid, split.oracle_knowable, REPORT_ACTIONS)
    knowable_labels = oracle_aucs(split.valid, split.oracle_knowable_labels, REPORT_ACTIONS)
    for action in ("favorite", "click"):
        assert 0.6 < knowable[action] < full[action], action
        assert knowable_labels[action] < full[action], action


def test_knowable_oracle_is_the_truth_without_the_posts_own_noise(split) -> None:
    """Row by row it differs from the truth (each post's own noise is gone); on average it agrees
    (the noise it integrates out has mean zero)."""
    probs = oracle_probabilities(split.valid, split.oracle_knowable, ["favorite"])["favorite"]
    truth = oracle_probabilities(split.valid, split.oracle_no_position, ["favorite"])["favorite"]
    assert probs.shape == truth.shape and np.isfinite(probs).all()
    assert probs.mean() == pytest.approx(truth.mean(), rel=0.1)
    assert not np.allclose(probs, truth, rtol=1e-3)
