"""The columnar ranker wire format: the same features as TweetInfos (and bit-identical batches),
exact round trips, clear errors."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from phoenix.actions import DISCRETE_ACTIONS, OUTPUT_SLOTS, UNMODELLED_LOG_PROB
from phoenix.ranker.config import small_config
from phoenix.ranker.features import CandidateColumns, HistoryItem, UserContext, build_batch
from phoenix.ranker.packed import (
    INT64_COLUMNS,
    PackingError,
    Predictions,
    candidate_columns,
    pack_candidates,
    pack_distributions,
    unpack_candidates,
    unpack_distributions,
)
from phoenix.ranker.request import candidate_from_tweet_info
from protos import recsys_pb2 as pb

NOW = 1_700_000_000_000


def _random_infos(rng: random.Random, n: int) -> list[pb.TweetInfo]:
    infos = []
    for i in range(n):
        pick = rng.random
        infos.append(pb.TweetInfo(
            tweet_id=10**15 + i, author_id=rng.randint(0, 50),
            retweeting_tweet_id=rng.choice([0, 10**15 + 7]) if pick() < 0.3 else 0,
            retweeted_tweet_id=rng.choice([0, 10**15 + 8]) if pick() < 0.2 else 0,
            quoted_tweet_id=rng.choice([0, 99]), in_reply_to_tweet_id=rng.choice([0, 0, 5]),
            fav_count=rng.randint(-3, 500), reply_count=rng.randint(0, 9), retweet_count=rng.randint(0, 9),
            quote_count=rng.randint(0, 9), view_count=rng.randint(0, 10**6), bookmark_count=rng.randint(0, 3),
            min_video_duration_ms=rng.choice([0, 12_000]), created_at_ms=rng.choice([0, -5, 1_700_000_000_000]),
            is_author_followed_by_user=pick() < 0.5, semantic_ids=rng.choice([[], [3], [4, 9]]),
            author_info=pb.AuthorInfo(is_followed_by_user=pick() < 0.2, followers=rng.randint(0, 10**5)),
        ))
    return infos


def _columns(infos: list[pb.TweetInfo]) -> tuple[dict[str, list[int]], np.ndarray]:
    author_info = {"author_followers", "author_is_following_user", "is_author_followed_by_user"}
    own = [n for n in INT64_COLUMNS if n not in author_info]
    columns = {n: [getattr(t, n) for t in infos] for n in own}
    columns["is_author_followed_by_user"] = [t.is_author_followed_by_user or t.author_info.is_followed_by_user
                                             for t in infos]
    columns["author_followers"] = [t.author_info.followers for t in infos]
    sids = np.zeros((len(infos), max([2, *(len(t.semantic_ids) for t in infos)])), np.int32)
    for i, t in enumerate(infos):
        sids[i, : len(t.semantic_ids)] = list(t.semantic_ids)
    return columns, sids


def test_packed_items_have_the_tweet_info_features() -> None:
    infos = _random_infos(random.Random(5), 300)
    columns, sids = _columns(infos)
    packed = pb.PackedCandidates.FromString(pack_candidates(columns, len(infos), sids).SerializeToString())
    columns = candidate_columns(packed, surface=15)
    items = list(columns)
    assert len(columns) == len(items) == len(infos)
    expected = [candidate_from_tweet_info(t, 15) for t in infos]
    for got, want in zip(items, expected, strict=True):
        # semantic ids: trailing unknown levels are padding (the ranker pads to its level count)
        assert got.semantic_ids[: len(want.semantic_ids)] == want.semantic_ids
        assert not any(got.semantic_ids[len(want.semantic_ids):])
        assert {**vars(got), "semantic_ids": ()} == {**vars(want), "semantic_ids": ()}


def test_columns_round_trip_and_zero_columns_are_not_sent() -> None:
    columns = {"tweet_id": [5, 6, 7], "author_id": [0, 0, 0], "fav_count": np.array([1, -2, 3])}
    packed = pack_candidates(columns, 3)
    assert packed.author_id == b"" and packed.semantic_ids == b""  # all zero: left empty
    got, sids = unpack_candidates(packed)
    assert set(got) == set(INT64_COLUMNS) and sids.shape == (3, 0)
    assert got["tweet_id"].tolist() == [5, 6, 7] and got["fav_count"].tolist() == [1, -2, 3]
    assert not got["author_id"].any() and not got["quoted_tweet_id"].any()


def test_pack_candidates_refuses_bad_columns() -> None:
    with pytest.raises(PackingError, match="unknown"):
        pack_candidates({"likes": [1]}, 1)
    with pytest.raises(PackingError, match="shape"):
        pack_candidates({"tweet_id": [1, 2]}, 3)
    with pytest.raises(PackingError, match="semantic_ids"):
        pack_candidates({"tweet_id": [1]}, 1, np.zeros((2, 1)))


@pytest.mark.parametrize(("fields", "message"), [
    ({"count": -1}, "count"),
    ({"count": 2, "tweet_id": bytes(15)}, "tweet_id has 15 bytes"),
    ({"count": 1, "tweet_id": np.array([0], "<i8").tobytes()}, "row 0: tweet_id"),
    ({"count": 2, "tweet_id": np.array([3, 4], "<i8").tobytes(), "author_id": np.array([1, -1], "<i8").tobytes()},
     "row 1: author_id"),
    ({"count": 1, "tweet_id": np.array([3], "<i8").tobytes(), "semantic_id_levels": 99}, "semantic_id_levels"),
    ({"count": 1, "tweet_id": np.array([3], "<i8").tobytes(), "semantic_ids": bytes(4)}, "semantic_id_levels 0"),
    ({"count": 1, "tweet_id": np.array([3], "<i8").tobytes(), "semantic_ids": bytes(6), "semantic_id_levels": 1},
     "semantic_ids has 6 bytes"),
])
def test_unpack_candidates_names_what_is_wrong(fields: dict, message: str) -> None:
    with pytest.raises(PackingError, match=message):
        unpack_candidates(pb.PackedCandidates(**fields))


def test_distributions_round_trip_the_modelled_heads() -> None:
    rng = np.random.default_rng(0)
    wire = np.full((4, OUTPUT_SLOTS), UNMODELLED_LOG_PROB, np.float32)
    slots = [h.action for h in DISCRETE_ACTIONS]
    wire[:, slots] = -rng.random((4, len(slots)), dtype=np.float32) * 5
    dwell = rng.random(4, dtype=np.float32) * 30
    packed = pack_distributions(np.array([11, 12, 13, 11]), wire, dwell)
    got = unpack_distributions(pb.PackedDistributions.FromString(packed.SerializeToString()), "v9")
    assert got.version == "v9" and got.tweet_ids.tolist() == [11, 12, 13, 11]
    assert got.actions == tuple(h.name for h in DISCRETE_ACTIONS)
    assert np.array_equal(got.probabilities, np.exp(wire[:, slots].astype(np.float64)))
    assert np.array_equal(got.dwell_s, dwell.astype(np.float64))


def test_unknown_heads_are_left_out_and_bad_sizes_refused() -> None:
    packed = pb.PackedDistributions(count=1, tweet_id=np.array([5], "<i8").tobytes(), actions=[pb.SERVER_TWEET_FAV, 60],
                                    log_probs=np.array([[-1.0, -2.0]], "<f4").tobytes())
    got = unpack_distributions(packed)
    assert got.actions == ("favorite",) and got.probabilities.tolist() == [[pytest.approx(np.exp(-1.0))]]
    assert got.dwell_s is None
    packed.log_probs = bytes(4)
    with pytest.raises(PackingError, match="log_probs"):
        unpack_distributions(packed)


def test_predictions_check_their_shapes() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        Predictions(np.array([1, 2]), ("favorite",), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="dwell"):
        Predictions(np.array([1]), ("favorite",), np.zeros((1, 1)), np.zeros(2))


def _random_history(rng: random.Random, n: int) -> list[HistoryItem]:
    return [
        HistoryItem(
            post_id=10**15 + rng.randint(0, 40), author_id=rng.randint(0, 50),
            actions=tuple(rng.sample([0, 1, 2, 5, 9, 63, 64, 70], rng.randint(0, 3))),
            dwell_ms=rng.choice([0, -50, 1_234, 45_000]), surface=rng.choice([0, 1, 15, -2, 999]),
            semantic_ids=rng.choice([(), (3,), (4, 9), tuple(range(1, 9))]),
        )
        for _ in range(n)
    ]  # fmt: skip


def test_a_packed_set_gives_the_same_batch_as_its_tweet_infos() -> None:
    """The serving path (columns straight from the wire) and X's layout (one item per TweetInfo)
    build bit-identical tensors, history-match features included."""
    rng = random.Random(11)
    cfg = small_config(max_candidates=400)
    infos = [_random_infos(rng, 300), _random_infos(rng, 7)]
    infos[1][0].semantic_ids[:] = list(range(1, 9))  # more levels than the ranker keeps
    sets = []
    for group in infos:
        columns, sids = _columns(group)
        sets.append(pb.PackedCandidates.FromString(pack_candidates(columns, len(group), sids).SerializeToString()))
    users = [UserContext(3, _random_history(rng, 40)), UserContext(4, _random_history(rng, 5))]
    from_items = build_batch(users, [[candidate_from_tweet_info(t, 15) for t in g] for g in infos], NOW, cfg)
    from_columns = build_batch(users, [candidate_columns(p, 15) for p in sets], NOW, cfg)
    assert from_items.cand_match.shape[-1] > 0 and from_items.cand_valid.sum() == 307
    for name, tensor in vars(from_items).items():
        assert tensor.dtype == getattr(from_columns, name).dtype, name
        assert torch.equal(tensor, getattr(from_columns, name)), name


def test_candidate_columns_read_as_a_sequence_of_items() -> None:
    infos = _random_infos(random.Random(9), 20)
    columns, sids = _columns(infos)
    packed = candidate_columns(pack_candidates(columns, len(infos), sids), surface=1)
    for got, info in zip(packed, infos, strict=True):
        assert got == candidate_from_tweet_info(info, 1)  # trailing unknown levels dropped again
    assert packed[-1].post_id == infos[-1].tweet_id
    part = packed[5:9]
    assert isinstance(part, CandidateColumns) and len(part) == 4 and list(part) == list(packed)[5:9]
    with pytest.raises(IndexError):
        packed[20]
    with pytest.raises(ValueError, match="counts"):
        CandidateColumns(**{**{f: getattr(packed, f) for f in ("post_id", "author_id", "created_at_ms", "in_network",
                                                                 "surface", "kind", "semantic_ids")},
                            "counts": np.zeros((20, 3), np.int64)})
