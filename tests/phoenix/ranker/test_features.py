"""Serving-side features: TweetInfo -> CandidateItem, vectorised age buckets and history, old-config loading."""

from __future__ import annotations

import numpy as np
import torch

from infra.snowflake import make_snowflake
from phoenix.actions import DWELL_CLIP_S, OUTPUT_SLOTS
from phoenix.hashing import hash_ids
from phoenix.ranker.config import PRODUCT_SURFACES, SID_LEVELS, RankerConfig, small_config
from phoenix.ranker.features import (
    CandidateItem,
    HistoryItem,
    UserContext,
    _sid_matrix,
    age_bucket,
    age_buckets,
    build_batch,
    sid_rows,
)
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.request import candidate_from_tweet_info
from protos import recsys_pb2 as pb

NOW = 1_700_000_000_000


def test_tweet_info_gives_the_training_features() -> None:
    info = pb.TweetInfo(
        tweet_id=11, author_id=5, in_reply_to_tweet_id=3, min_video_duration_ms=9000, fav_count=4,
        reply_count=3, retweet_count=2, quote_count=1, view_count=50, is_author_followed_by_user=True,
    )  # fmt: skip
    c = candidate_from_tweet_info(info, surface=1)
    assert (c.post_id, c.author_id, c.in_network, c.surface) == (11, 5, True, 1)
    assert c.counts == (4, 3, 2, 1, 50)
    assert (c.is_reply, c.is_retweet, c.is_quote, c.has_video) == (True, False, False, True)
    rt = candidate_from_tweet_info(pb.TweetInfo(tweet_id=12, author_id=5, retweeting_tweet_id=99, quoted_tweet_id=7), 0)
    assert (rt.is_reply, rt.is_retweet, rt.is_quote, rt.has_video) == (False, True, True, False)
    assert rt.counts == (0, 0, 0, 0, 0) and not rt.in_network


def test_vectorised_age_buckets_equal_the_scalar_rule() -> None:
    rng = np.random.default_rng(0)
    ids = np.array([make_snowflake(NOW - int(x)) for x in rng.integers(-10**7, 10**9, 300)] + [0, 5], np.int64)
    created = np.where(rng.random(len(ids)) < 0.5, 0, NOW - rng.integers(-10**6, 10**9, len(ids)))
    expected = [age_bucket(int(c), int(i), NOW) for c, i in zip(created, ids, strict=True)]
    assert age_buckets(created, ids, NOW).tolist() == expected


def test_batch_carries_kind_flags_and_counts() -> None:
    cfg = small_config()
    cands = [CandidateItem(100, 1, counts=(1, 0, 0, 0, 3), is_quote=True), CandidateItem(101, 2, has_video=True)]
    batch = build_batch([UserContext(1)], [cands], NOW, cfg, num_candidates=3)
    assert batch.cand_kind[0].tolist() == [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert batch.cand_counts[0, 0, 0] == 1 / 32 and batch.cand_counts[0, 0, 4] == 2 / 32
    assert batch.cand_valid[0].tolist() == [True, True, False]


def test_the_kind_flags_change_scores_and_old_configs_load_without_them() -> None:
    cfg = small_config()
    torch.manual_seed(0)
    model = PhoenixRanker(cfg).eval()
    plain, video = CandidateItem(100, 1), CandidateItem(100, 1, has_video=True)
    with torch.no_grad():
        logits, _ = model(build_batch([UserContext(1)], [[plain, video]], NOW, cfg))
    assert not torch.allclose(logits[0, 0], logits[0, 1])
    old = cfg.to_dict()
    del old["post_kind_features"]  # a checkpoint written before the flag existed
    legacy = RankerConfig.from_dict(old)
    assert not legacy.post_kind_features
    assert "kind_emb.weight" not in PhoenixRanker(legacy).state_dict()


def test_history_slots_follow_the_per_item_rule() -> None:
    """The column-wise history fill against the rule written out item by item: left padding,
    newest last, the newest ``history_len`` kept, actions 1..63 as multi-hot, surfaces out of range
    as 0, dwell clipped to [0, 30] s and scaled, semantic ids cut/padded to the ranker's levels."""
    cfg = small_config()
    s = cfg.history_len
    history = [
        HistoryItem(1000 + j, 7 + j % 4, actions=((j % 5, 63, 64) if j % 3 else ()), dwell_ms=(j - 3) * 2_500,
                    surface=(j % 20) - 2, semantic_ids=tuple(range(1, j % 9)))
        for j in range(s + 5)
    ]  # fmt: skip
    batch = build_batch([UserContext(1, history), UserContext(2, history[:3])], [[], []], NOW, cfg)
    post = np.zeros((2, s), np.int64)
    actions = np.zeros((2, s, OUTPUT_SLOTS), np.float32)
    surface = np.zeros((2, s), np.int64)
    dwell = np.zeros((2, s), np.float32)
    sid = np.zeros((2, s, SID_LEVELS), np.int64)
    for i, items in enumerate([history[-s:], history[:3]]):
        for j, item in enumerate(items, start=s - len(items)):
            post[i, j] = item.post_id
            for a in item.actions:
                if 0 < a < OUTPUT_SLOTS:
                    actions[i, j, a] = 1.0
            surface[i, j] = item.surface if 0 <= item.surface < PRODUCT_SURFACES else 0
            dwell[i, j] = min(max(item.dwell_ms / 1000.0, 0.0), DWELL_CLIP_S) / DWELL_CLIP_S
            levels = list(item.semantic_ids[:SID_LEVELS])
            sid[i, j, : len(levels)] = levels
    assert batch.hist_len.tolist() == [s, 3]
    assert torch.equal(batch.hist_post_rows, torch.from_numpy(hash_ids("post", post, cfg.hashing)))
    assert torch.equal(batch.hist_actions, torch.from_numpy(actions))
    assert torch.equal(batch.hist_surface, torch.from_numpy(surface))
    assert torch.equal(batch.hist_dwell, torch.from_numpy(dwell))
    assert torch.equal(batch.hist_sid, torch.from_numpy(sid_rows(sid, cfg.sid_vocab)))


def test_semantic_id_lists_are_cut_and_padded_to_the_ranker_levels() -> None:
    uniform_short, uniform_long = [(3,), (4,), (5,)], [tuple(range(1, 10)), tuple(range(11, 20))]
    mixed, empty = [(), (3,), tuple(range(1, 10))], [(), ()]
    for lists in (uniform_short, uniform_long, mixed, empty, []):
        expected = [list(x[:SID_LEVELS]) + [0] * (SID_LEVELS - len(x[:SID_LEVELS])) for x in lists]
        assert _sid_matrix(lists).tolist() == expected and _sid_matrix(lists).shape == (len(lists), SID_LEVELS)
