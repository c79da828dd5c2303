"""History-match features: the user's own engagement with a candidate's topic and author."""

from __future__ import annotations

import numpy as np
import torch

from phoenix.actions import HEAD_INDEX_BY_ACTION
from phoenix.ranker.config import RankerConfig, small_config
from phoenix.ranker.features import CandidateItem, HistoryItem, UserContext, build_batch
from phoenix.ranker.history_match import BLOCK, NUM_MATCH_FEATURES
from phoenix.ranker.model import PhoenixRanker

NOW = 1_700_000_000_000
FAV, DWELLED = HEAD_INDEX_BY_ACTION[1], HEAD_INDEX_BY_ACTION[11]  # column of each action in a block


def _history() -> list[HistoryItem]:
    return [
        HistoryItem(1, 50, (1, 11), 9000, 1, (3,)),  # favorite + dwelled
        HistoryItem(2, 51, (11,), 1000, 1, (3,)),
        HistoryItem(3, 50, (), 0, 1, (4,)),
        HistoryItem(4, 52, (1,), 0, 1, ()),  # no topic: matches nothing by topic
    ]


def test_counts_actions_and_dwell_by_topic_author_and_overall() -> None:
    cands = [
        CandidateItem(10, 50, semantic_ids=(3,)),  # topic 3 (two items), author 50 (two items)
        CandidateItem(11, 99, semantic_ids=(7,)),  # nothing in common
        CandidateItem(12, 52),  # no topic, author 52 (one item)
    ]
    m = build_batch([UserContext(1, _history())], [cands], NOW, small_config(), num_candidates=4).cand_match[
        0
    ]
    assert m.shape == (4, NUM_MATCH_FEATURES)
    topic, author, overall = m[:, :BLOCK], m[:, BLOCK : 2 * BLOCK], m[:, 2 * BLOCK :]
    scaled = lambda n: float(np.log2(1 + n) / 8)  # noqa: E731
    assert topic[0, 0] == scaled(2) and topic[0, 1 + FAV] == scaled(1) and topic[0, 1 + DWELLED] == scaled(2)
    assert np.isclose(float(topic[0, -1]), (np.log1p(9.0) + np.log1p(1.0)) / 2)
    assert author[0, 0] == scaled(2) and author[0, 1 + FAV] == scaled(1)
    assert not topic[1].any() and not author[1].any() and not topic[2].any()
    assert author[2, 0] == scaled(1) and author[2, 1 + FAV] == scaled(1)
    assert overall[0, 0] == scaled(4) and torch.equal(overall[0], overall[1])
    assert not m[3, : 2 * BLOCK].any()  # a padded slot matches nothing


def test_padding_and_an_empty_history_add_nothing() -> None:
    cfg = small_config()
    cand = [CandidateItem(10, 50, semantic_ids=(3,))]
    assert not build_batch([UserContext(1, [])], [cand], NOW, cfg).cand_match.any()
    short = build_batch([UserContext(1, _history()[:1])], [cand], NOW, cfg).cand_match[0, 0]
    assert short[0] == float(np.log2(2) / 8)  # one real item; the padded slots do not count


def test_features_change_scores_and_old_configs_load_without_them() -> None:
    cfg = small_config()
    torch.manual_seed(0)
    model = PhoenixRanker(cfg).eval()
    cand = [CandidateItem(10, 60, semantic_ids=(3,))]
    batch = build_batch([UserContext(1, _history())], [cand], NOW, cfg)
    with torch.no_grad():
        with_match, _ = model(batch)
        batch.cand_match.zero_()
        without, _ = model(batch)
    assert not torch.allclose(with_match, without)
    old = cfg.to_dict()
    del old["history_match_features"]
    legacy = RankerConfig.from_dict(old)
    assert not legacy.history_match_features
    assert not any(k.startswith("match_mlp") for k in PhoenixRanker(legacy).state_dict())
    assert build_batch([UserContext(1, _history())], [cand], NOW, legacy).cand_match.shape == (1, 1, 0)


def test_vectorised_features_equal_a_per_candidate_reference() -> None:
    """Random keys (0 = unknown) and values: every candidate's three blocks equal the sums over the
    matching history items, written out one candidate at a time."""
    from phoenix.ranker.history_match import history_match_features

    def finish(sums: np.ndarray) -> np.ndarray:
        n = sums[0]
        return np.concatenate([np.log2(1.0 + sums[:-1]) / 8.0, [sums[-1] / n if n > 0 else 0.0]])

    rng = np.random.default_rng(3)
    b, s, c = 3, 40, 25
    hist_topic, hist_author = rng.integers(0, 6, (b, s)), rng.integers(0, 8, (b, s))
    cand_topic, cand_author = rng.integers(0, 7, (b, c)), rng.integers(0, 9, (b, c))
    values = rng.random((b, s, BLOCK)).astype(np.float32)
    values[..., 0] = 1.0  # the item count, as history_item_values writes it
    values *= rng.random((b, s, 1)) > 0.2  # padded slots: zero rows
    got = history_match_features(hist_topic, hist_author, values, cand_topic, cand_author)
    for i in range(b):
        for j in range(c):
            for block, (hist, cand) in enumerate([(hist_topic, cand_topic), (hist_author, cand_author)]):
                match = (hist[i] == cand[i, j]) & (cand[i, j] != 0)
                want = finish(values[i][match].sum(0)) if match.any() else np.zeros(BLOCK)
                assert np.allclose(got[i, j, block * BLOCK : (block + 1) * BLOCK], want, atol=1e-6)
            assert np.allclose(got[i, j, 2 * BLOCK :], finish(values[i].sum(0)), atol=1e-6)
