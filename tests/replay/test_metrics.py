import math

import numpy as np
import pytest

from home_mixer.replay.bootstrap import bootstrap_indices, delta_interval, mean_interval
from home_mixer.replay.ranking_metrics import hit_rate_at_k, ndcg_at_k, recall_at_k, reciprocal_rank


def test_ranking_metrics_worked_example() -> None:
    served, relevant = [5, 3, 9, 1], {9, 1, 42}
    assert hit_rate_at_k(served, relevant, 2) == 0.0
    assert hit_rate_at_k(served, relevant, 3) == 1.0
    assert recall_at_k(served, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(4) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(served, relevant, 4) == pytest.approx(dcg / ideal)
    assert reciprocal_rank(served, relevant) == pytest.approx(1 / 3)


def test_empty_relevant_and_perfect_ranking() -> None:
    assert ndcg_at_k([1, 2], set(), 2) == 0.0 and recall_at_k([1], set(), 1) == 0.0
    assert ndcg_at_k([1, 2, 3], {1, 2}, 3) == pytest.approx(1.0)
    assert reciprocal_rank([1, 2], {7}) == 0.0


def test_bootstrap_is_deterministic_and_paired() -> None:
    rng = np.random.default_rng(0)
    a = rng.random(500)
    b = a + 0.1
    idx = bootstrap_indices(500, 200, seed=7)
    assert np.array_equal(idx, bootstrap_indices(500, 200, seed=7))
    d = delta_interval(a, b, idx)
    assert d.low == pytest.approx(0.1) and d.high == pytest.approx(0.1)
    m = mean_interval(a, idx)
    assert m.low < m.mean < m.high
    with pytest.raises(ValueError):
        delta_interval(a, b[:10], idx)


def test_report_explains_a_protocol_disagreement() -> None:
    from home_mixer.replay.report import _protocol_disagreement

    def target(met: bool, ratio: float, pipeline: str = "for_you") -> dict:
        return {"met": met, "pipeline": pipeline, "ratio_vs_chronological": ratio}

    summary = {"metrics": {"for_you": {"shown_overlap": {"mean": 0.01}},
                           "chronological": {"shown_overlap": {"mean": 0.13}}},
               "quality_targets_every_pipeline": {"ndcg@35": [target(False, 0.1),
                                                              target(False, 0.45, "for_you+oracle_ranker")]}}
    agree = {"oracle_ndcg@35": target(True, 1.7), "ndcg@35": target(True, 1.6)}
    assert _protocol_disagreement(summary, agree) == []
    [line] = _protocol_disagreement(summary, {"oracle_ndcg@35": target(True, 1.7), "ndcg@35": target(False, 0.1)})
    assert "met under the counterfactual protocol and not met under the logged one" in line
    assert "0.01 for for_you and 0.13 for chronological" in line and "0.45 x chronological" in line
