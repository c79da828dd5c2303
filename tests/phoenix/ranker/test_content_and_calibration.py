"""Semantic ids (topic as SID level 0), repost consistency with serving, calibrated heads."""

from __future__ import annotations

import numpy as np
import torch

from phoenix.actions import ACTION_NAMES
from phoenix.ranker.config import SID_LEVELS, RankerConfig, small_config
from phoenix.ranker.evaluate import predict
from phoenix.ranker.examples import build_examples
from phoenix.ranker.features import CandidateItem, UserContext, build_batch
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.request import to_score_requests
from phoenix.ranker.train import calibrate_heads
from protos import events_pb2
from protos import recsys_pb2 as pb

IMP, FAV = pb.CLIENT_TWEET_IMPRESSION, pb.SERVER_TWEET_FAV


def _ev(n: int, user: int, post: int, action: int, t: int, author: int) -> events_pb2.EngagementEvent:
    return events_pb2.EngagementEvent(
        event_id=f"e{n}", user_id=user, post_id=post, author_id=author, action=action, timestamp_ms=t
    )


def _follow(user: int, target: int, t: int) -> events_pb2.SocialGraphEvent:
    return events_pb2.SocialGraphEvent(user_id=user, target_user_id=target, action=events_pb2.FOLLOW, timestamp_ms=t)


def test_examples_carry_topics_and_score_reposts_as_their_original() -> None:
    posts = [
        events_pb2.PostCreated(post_id=7, author_id=5, created_at=1, topic_id=3),
        events_pb2.PostCreated(post_id=8, author_id=6, created_at=2, is_retweet=True, source_post_id=7,
                               source_user_id=5, topic_id=4),  # fmt: skip
        events_pb2.PostCreated(post_id=9, author_id=6, created_at=3),
    ]
    events = [
        _ev(1, 1, 7, FAV, 500, 5),  # an earlier favorite of the original -> a fav count of 7
        _ev(2, 2, 8, IMP, 1000, 6), _ev(3, 2, 8, FAV, 1001, 6),  # user 2 likes the repost...
        _ev(4, 2, 9, IMP, 2000, 6),  # ...then sees another post
    ]  # fmt: skip
    train, _ = build_examples(posts, events, history_len=4, max_candidates=1, social=[_follow(2, 5, 0)])
    first, second = [e for e in train if e.user.user_id == 2]
    repost = first.candidates[0]
    # As home-mixer sends it: the original's id, author, counts and follow flag, flagged a repost.
    assert (repost.post_id, repost.author_id, repost.is_retweet, repost.in_network) == (7, 5, True, True)
    assert repost.counts[0] == 1 and repost.semantic_ids == (4,) and repost.created_at_ms == 2000  # own core data
    # The oracle still sees what was shown: the repost and its reposter (not followed).
    assert first.shown is not None and (first.shown[0].post_id, first.shown[0].author_id) == (8, 6)
    assert not first.shown[0].in_network
    # History items: the original too (user-state's sequence describes reposts that way).
    hist = second.user.history[-1]
    assert (hist.post_id, hist.author_id, hist.semantic_ids) == (7, 5, (4,))
    assert second.shown is None and second.candidates[0].semantic_ids == ()


def test_semantic_ids_from_the_request_reach_the_tokens() -> None:
    seq = pb.UserActionSequence(user_id=1)
    ua = seq.user_actions.add(tweet_info=pb.TweetInfo(tweet_id=5, author_id=2, semantic_ids=[3]))
    ua.actions.add(action_name=FAV)
    cands = [pb.TweetInfo(tweet_id=10 + k, author_id=2, semantic_ids=sids) for k, sids in
             enumerate([[3], [4, 900], [], list(range(1, 9))])]  # fmt: skip
    req = pb.PredictNextActionsRequest(sequences=[seq], candidate_sets=[pb.CandidateSet(user_id=1, candidates=cands)])
    (score_req,) = to_score_requests(req, now_ms=10**12, max_candidates=10)
    cfg = small_config()
    batch = build_batch([score_req.user], [score_req.candidates], 10**12, cfg)
    assert batch.hist_sid[0, -1].tolist() == [3] + [0] * (SID_LEVELS - 1)
    assert batch.cand_sid.shape == (1, 4, SID_LEVELS)
    assert batch.cand_sid[0, 1, :2].tolist() == [4, (900 - 1) % (cfg.sid_vocab - 1) + 1]  # folded
    assert batch.cand_sid[0, 2].tolist() == [0] * SID_LEVELS
    assert batch.cand_sid[0, 3].tolist() == list(range(1, SID_LEVELS + 1))  # extra levels dropped
    torch.manual_seed(0)
    model = PhoenixRanker(cfg).eval()
    with torch.no_grad():
        logits, _ = model(batch)
        # Unknown SIDs add nothing: zeroing the tables changes only the tokens of candidates with SIDs.
        tokens = model.candidate_tokens(batch)
        for table in model.sid_tables:
            table.weight.zero_()
        plain = model.candidate_tokens(batch)
    assert torch.equal(tokens[0, 2], plain[0, 2]) and not torch.allclose(tokens[0, 0], plain[0, 0])
    assert torch.isfinite(logits).all()


def test_old_configs_load_without_semantic_ids() -> None:
    data = small_config().to_dict()
    del data["semantic_id_features"], data["sid_vocab"]
    cfg = RankerConfig.from_dict(data)
    assert not cfg.semantic_id_features and small_config().semantic_id_features
    model = PhoenixRanker(cfg)
    assert model.sid_tables is None and not any("sid" in k for k in model.state_dict())
    batch = build_batch([UserContext(1)], [[CandidateItem(10, 2, semantic_ids=(3,))]], 10**12, cfg)
    assert model(batch)[0].shape[:2] == (1, 1)


def test_calibrated_heads_predict_the_base_rates() -> None:
    rng = np.random.default_rng(0)
    posts = [events_pb2.PostCreated(post_id=p, author_id=p % 7 + 1, created_at=1, topic_id=p % 5 + 1)
             for p in range(1, 200)]  # fmt: skip
    events, n = [], 0
    for user in range(1, 30):
        for k, post in enumerate(rng.choice(np.arange(1, 200), 12, replace=False)):
            t = 10_000 * user + 100 * k
            events.append(_ev(n := n + 1, user, int(post), IMP, t, int(post) % 7 + 1))
            for action, p in ((FAV, 0.3), (pb.CLIENT_TWEET_REPORT, 0.02), (pb.CLIENT_TWEET_BLOCK_AUTHOR, 0.05)):
                if rng.random() < p:
                    events.append(_ev(n := n + 1, user, int(post), action, t + 1, int(post) % 7 + 1))
    train, _ = build_examples(posts, events, history_len=8, max_candidates=6)
    torch.manual_seed(0)
    model = PhoenixRanker(small_config()).eval()
    before = predict(model, train)
    calibrate_heads(model, train)
    probs = predict(model, train)
    labels = np.concatenate([e.labels for e in train])
    for name in ("favorite", "report", "block_author", "mute_author"):
        col = ACTION_NAMES.index(name)
        rate = (labels[:, col].sum() + 0.5) / (len(labels) + 1)
        assert abs(probs[:, col].mean() - rate) < 1e-4, name
    # An untrained ranker is far from calibrated on rare actions (what the demo's feed suffered).
    report = ACTION_NAMES.index("report")
    assert before[:, report].mean() > 5 * probs[:, report].mean()
