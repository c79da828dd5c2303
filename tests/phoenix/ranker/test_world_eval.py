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


def test_a_longer_world_still_holds_out_only_its_last_quarter() -> None:
    """The quality bench's ``small_long`` world lengthens the timeline: the validation period
    moves with it (the last 25%), nothing seen in it is trained on, and early stopping uses the
    latest training examples, not the validation period."""
    from events.world import WorldConfig

    cfg = WorldConfig.preset("tiny", days=4.0)
    split_ms = cfg.start_ms + int((cfg.end_ms - cfg.start_ms) * 0.75)
    data = world_split("tiny", history_len=16, max_candidates=8, days=4.0)
    seen = {
        name: np.concatenate([e.seen_ms for e in part])
        for name, part in (("train", data.train), ("early_stop", data.early_stop), ("valid", data.valid))
    }
    assert seen["train"].max() < split_ms and seen["early_stop"].max() < split_ms
    assert seen["valid"].min() >= split_ms
    assert max(e.time_ms for e in data.train) <= min(e.time_ms for e in data.early_stop)
    assert len(data.early_stop) == int((len(data.train) + len(data.early_stop)) * 0.1)


def test_small_long_is_the_small_world_over_more_days() -> None:
    from events.world import WorldConfig

    small, long = WorldConfig.preset("small"), WorldConfig.preset("small_long")
    assert long.days > small.days
    assert long == WorldConfig.preset("small", days=long.days)
