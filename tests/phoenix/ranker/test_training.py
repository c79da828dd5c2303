from __future__ import annotations

import numpy as np
import pytest
import torch

from phoenix.actions import head_index
from phoenix.ranker.config import small_config
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.evaluate import evaluate, roc_auc
from phoenix.ranker.examples import build_examples
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import TrainConfig, save_ranker, train
from protos import events_pb2
from protos import recsys_pb2 as pb

from .synthetic import T0_MS, TinyWorld


def _ev(n, user, post, action, t, dwell=0):
    return events_pb2.EngagementEvent(
        event_id=f"x{n}",
        user_id=user,
        post_id=post,
        author_id=9,
        action=action,
        timestamp_ms=t,
        dwell_time_ms=dwell,
    )


def test_examples_use_only_earlier_engagements_and_split_by_time() -> None:
    imp, fav = pb.CLIENT_TWEET_IMPRESSION, pb.SERVER_TWEET_FAV
    events = [
        _ev(1, 1, 101, imp, 1000), _ev(2, 1, 101, fav, 1500, 4000),
        _ev(3, 1, 102, imp, 2000),
        _ev(4, 1, 103, imp, 3000), _ev(5, 1, 103, pb.SERVER_TWEET_REPLY, 3100),
        _ev(6, 1, 104, imp, 9000), _ev(6, 1, 104, imp, 9000),  # duplicate delivery
    ]  # fmt: skip
    train, valid = build_examples([], events, history_len=4, max_candidates=2, split_time_ms=5000)
    assert [[c.post_id for c in e.candidates] for e in train] == [[101, 102], [103]]
    assert train[0].user.history == []
    assert [h.post_id for h in train[1].user.history] == [101]  # 101 was favorited before 103 was seen
    assert train[0].labels[0, head_index("favorite")] == 1 and train[0].labels[1].sum() == 0
    assert train[0].dwell_s[0] == pytest.approx(4.0)
    assert len(valid) == 1 and [h.post_id for h in valid[0].user.history] == [101, 103]
    assert valid[0].labels.sum() == 0  # shown, nothing done: a negative


def test_roc_auc() -> None:
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.1, 0.2])))


@pytest.fixture
def one_thread():
    """Small models train faster on one thread than two contended ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def test_training_learns_the_tiny_world_and_checkpoint_serves(tmp_path, one_thread) -> None:
    world = TinyWorld(users=48, posts=160, topics=2, seed=1)
    split = T0_MS + 30 * 60_000
    train_ex, valid_ex = build_examples(
        world.posts(), world.engagements(60), history_len=16, max_candidates=8, split_time_ms=split
    )
    assert train_ex and valid_ex
    torch.manual_seed(0)
    model = PhoenixRanker(small_config())
    stats = train(model, train_ex, TrainConfig(epochs=24, batch_size=16, lr=3e-3, progress=False))
    assert stats.steps > 0 and np.isfinite(stats.final_loss)
    metrics = evaluate(model, valid_ex, oracle=world.oracle, actions=("favorite", "reply", "not_interested"))
    fav = metrics["favorite"]
    assert fav.oracle_auc is not None and fav.oracle_auc > 0.8
    assert fav.auc > 0.65, metrics  # well above chance (0.5): it learned user x topic affinity
    assert abs(fav.mean_predicted - fav.observed_rate) < 0.15  # roughly calibrated
    assert metrics["not_interested"].auc > 0.55
    version = save_ranker(model, tmp_path / "ck")
    engine = RankerEngine.from_checkpoint(str(tmp_path / "ck"))
    assert engine.version == version


def test_in_network_flag_follows_the_follow_timeline() -> None:
    from phoenix.ranker.examples import FollowTimeline

    social = [
        events_pb2.SocialGraphEvent(user_id=1, action=events_pb2.FOLLOW, target_user_id=9, timestamp_ms=100),
        events_pb2.SocialGraphEvent(
            user_id=1, action=events_pb2.UNFOLLOW, target_user_id=9, timestamp_ms=500
        ),
    ]
    timeline = FollowTimeline(social)
    assert not timeline.follows(1, 9, 50) and timeline.follows(1, 9, 100) and not timeline.follows(1, 9, 600)
    imp = pb.CLIENT_TWEET_IMPRESSION
    train_ex, _ = build_examples(
        [],
        [_ev(1, 1, 101, imp, 200), _ev(2, 1, 102, imp, 700)],
        history_len=2,
        max_candidates=1,
        social=social,
    )
    assert [e.candidates[0].in_network for e in train_ex] == [True, False]


def test_candidates_carry_engagement_counts_from_before_they_were_seen() -> None:
    imp, fav = pb.CLIENT_TWEET_IMPRESSION, pb.SERVER_TWEET_FAV
    events = [
        _ev(1, 1, 101, imp, 1000),
        _ev(2, 1, 101, fav, 1500),
        _ev(3, 2, 101, imp, 2000),
        _ev(4, 3, 101, fav, 2500),
    ]
    train_ex, _ = build_examples([], events, history_len=2, max_candidates=1)
    by_user = {e.user.user_id: e.candidates[0].counts for e in train_ex}
    assert by_user[1] == (0, 0, 0, 0, 0)
    assert by_user[2] == (1, 0, 0, 0, 1)  # one fav, one view before user 2 saw it
    assert by_user[3] == (1, 0, 0, 0, 2)


def test_candidates_carry_post_kind_flags_from_the_post_stream() -> None:
    imp = pb.CLIENT_TWEET_IMPRESSION
    posts = [
        events_pb2.PostCreated(post_id=101, author_id=9, created_at=1, is_reply=True, in_reply_to_post_id=7),
        events_pb2.PostEvent(
            created=events_pb2.PostCreated(post_id=102, author_id=9, created_at=1, is_retweet=True, source_post_id=7)
        ),
        events_pb2.PostCreated(post_id=103, author_id=9, created_at=1, quoted_post_id=7, has_video=True),
        events_pb2.PostCreated(post_id=104, author_id=9, created_at=1),
    ]
    events = [_ev(i, 1, 100 + i, imp, 1000 * i) for i in range(1, 5)]
    train_ex, _ = build_examples(posts, events, history_len=2, max_candidates=4)
    flags = [(c.is_reply, c.is_retweet, c.is_quote, c.has_video) for c in train_ex[0].candidates]
    assert flags == [
        (True, False, False, False),
        (False, True, False, False),
        (False, False, True, True),
        (False, False, False, False),
    ]


def test_id_dropout_blanks_ids_deterministically_per_example() -> None:
    from phoenix.ranker.features import CandidateItem, HistoryItem, UserContext, build_batch
    from phoenix.ranker.train import drop_ids

    cfg = small_config()
    users = [UserContext(u, [HistoryItem(500 + i, 3) for i in range(cfg.history_len)]) for u in (1, 2)]
    cands = [[CandidateItem(1000 + j, 4) for j in range(200)] for _ in users]

    def dropped(keys, p):
        batch = build_batch(users[: len(keys)], cands[: len(keys)], T0_MS, cfg)
        drop_ids(batch, keys, seed=3, post_p=p, user_p=p)
        return batch

    a, b = dropped([10, 11], 0.5), dropped([10, 11], 0.5)
    assert torch.equal(a.cand_post_rows, b.cand_post_rows) and torch.equal(a.hist_post_rows, b.hist_post_rows)
    blank = (a.cand_post_rows == 0).all(-1).float().mean()
    assert 0.4 < float(blank) < 0.6  # about half the candidate post ids are now padding
    assert (a.cand_author_rows != 0).all()  # only post and user ids are touched
    users_blank = [bool((dropped([k], 0.5).user_rows[0] == 0).all()) for k in range(40)]
    assert 8 < sum(users_blank) < 32
    # The draw depends on the example's key, not on its row in the batch.
    c = dropped([11, 10], 0.5)
    assert torch.equal(c.cand_post_rows[0], a.cand_post_rows[1])
    assert torch.equal(dropped([10, 11], 0.0).cand_post_rows, build_batch(users, cands, T0_MS, cfg).cand_post_rows)
    with pytest.raises(ValueError):
        TrainConfig(post_id_dropout=1.5)


def test_early_stopping_keeps_the_best_epoch(one_thread) -> None:
    world = TinyWorld(users=24, posts=120, topics=2, seed=2)
    split = T0_MS + 30 * 60_000
    train_ex, held_out = build_examples(
        world.posts(), world.engagements(40), history_len=8, max_candidates=8, split_time_ms=split
    )
    torch.manual_seed(0)
    model = PhoenixRanker(small_config())
    # A large learning rate overfits a tiny set quickly, so the held-out loss turns upward.
    stats = train(
        model, train_ex, TrainConfig(epochs=6, batch_size=8, lr=2e-2, progress=False), early_stop=held_out
    )
    assert len(stats.early_stop_losses) == 6
    assert stats.best_epoch == int(np.argmin(stats.early_stop_losses))
    from phoenix.ranker.train import mean_loss

    kept = mean_loss(model, held_out, TrainConfig())
    assert kept == pytest.approx(min(stats.early_stop_losses), rel=1e-4)


def test_cosine_schedule_warms_up_then_decays_to_zero() -> None:
    from phoenix.ranker.train import lr_factor

    cos = TrainConfig(lr_schedule="cosine", warmup_steps=2)
    factors = [lr_factor(cos, s, 10) for s in range(11)]
    assert factors[:3] == [0.5, 1.0, 1.0] and factors[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(a >= b for a, b in zip(factors[1:], factors[2:], strict=False))
    assert {lr_factor(TrainConfig(), s, 10) for s in range(10)} == {1.0}
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(lr_schedule="linear")
