"""The real gRPC ranker server: scoring, batching, validation, overload, hot reload."""

from __future__ import annotations

import asyncio
import math

import grpc
import numpy as np
import pytest
import torch

from infra.snowflake import make_snowflake
from phoenix.actions import DISCRETE_ACTIONS, OUTPUT_SLOTS, UNMODELLED_LOG_PROB
from phoenix.ranker.client import RankerClient
from phoenix.ranker.config import small_config
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.packed import pack_candidates
from phoenix.ranker.server import serve
from phoenix.ranker.train import save_ranker
from protos import recsys_pb2 as pb
from protos import recsys_pb2_grpc

NOW = 1_700_000_000_000


def _model(seed: int = 0) -> PhoenixRanker:
    torch.manual_seed(seed)
    return PhoenixRanker(small_config()).eval()


def _sequence(user_id: int, n: int) -> pb.UserActionSequence:
    return pb.UserActionSequence(
        user_id=user_id,
        user_actions=[
            pb.AggregatedUserAction(
                tweet_info=pb.TweetInfo(tweet_id=100 + i, author_id=7),
                actions=[
                    pb.ActionInfo(action_name=pb.SERVER_TWEET_FAV, dwell_time_ms=4000, product_surface=1)
                ],
            )
            for i in range(n)
        ],
    )


def _cands(n: int, offset: int = 0) -> list[pb.TweetInfo]:
    return [pb.TweetInfo(tweet_id=make_snowflake(NOW + i + offset), author_id=50 + i % 5) for i in range(n)]


def _run(scenario, model: PhoenixRanker | None = None, workers: int = 1, **kwargs):
    async def main():
        handle, service = await serve(RankerEngine(model or _model(), "v-test", workers=workers), **kwargs)
        try:
            return await scenario(f"127.0.0.1:{handle.port}", service)
        finally:
            await handle.stop(0)
            await service.batcher.stop()

    return asyncio.run(main())


def test_predict_layout_isolation_and_client() -> None:
    async def scenario(addr, service):
        async with RankerClient(addr) as client:
            probs, dwell, version = await client.predict(_sequence(1, 5), _cands(6))
            probs_one, _, _ = await client.predict(_sequence(1, 5), _cands(6)[2:3])
            channel = grpc.aio.insecure_channel(addr)
            stub = recsys_pb2_grpc.RecsysPredictorStub(channel)
            raw = await stub.PredictNextActions(
                pb.PredictNextActionsRequest(
                    candidate_sets=[pb.CandidateSet(user_id=9, candidates=_cands(2))]
                )
            )
            await channel.close()
            return probs, dwell, version, probs_one, raw

    probs, dwell, version, probs_one, raw = _run(scenario)
    assert version == "v-test" and len(probs) == 6 and len(dwell) == 6
    tid = _cands(6)[2].tweet_id
    assert set(probs[tid]) == {h.name for h in DISCRETE_ACTIONS}
    assert all(0 < p < 1 for p in probs[tid].values())
    for name, p in probs_one[tid].items():  # alone or among others: same score
        assert p == pytest.approx(probs[tid][name], abs=1e-5)
    # Wire layout: 64 log-probs by ActionName number, unmodelled slots very negative; new user ok.
    dist = raw.distribution_sets[0].candidate_distributions[0]
    assert len(dist.top_log_probs) == OUTPUT_SLOTS and raw.model_version == "v-test"
    assert dist.top_log_probs[pb.SERVER_TWEET_UNFAV] == UNMODELLED_LOG_PROB
    assert (
        math.isfinite(dist.top_log_probs[pb.SERVER_TWEET_FAV]) and dist.top_log_probs[pb.SERVER_TWEET_FAV] < 0
    )
    assert 0 <= dist.continuous_actions_values[pb.DWELL_TIME] <= 30


def test_concurrent_users_are_batched_and_match_single_scoring() -> None:
    async def scenario(addr, service):
        async with RankerClient(addr) as client:
            alone = await client.predict(_sequence(3, 3), _cands(6, offset=3))
            calls = [client.predict(_sequence(u, u), _cands(3 + u, offset=u)) for u in range(1, 9)]
            before = service.batcher.batches
            results = await asyncio.gather(*calls)
            return alone, results, service.batcher.batches - before

    alone, results, batches = _run(scenario, max_wait_ms=20)
    assert batches < 8  # several users shared a model call
    together = results[2]  # user 3, same inputs as `alone`
    for tid, actions in alone[0].items():
        for name, p in actions.items():
            assert together[0][tid][name] == pytest.approx(p, abs=1e-5)


def test_invalid_argument_and_resource_exhausted() -> None:
    async def scenario(addr, service):
        channel = grpc.aio.insecure_channel(addr)
        stub = recsys_pb2_grpc.RecsysPredictorStub(channel)
        codes = []
        bad = [
            pb.PredictNextActionsRequest(),
            pb.PredictNextActionsRequest(
                candidate_sets=[pb.CandidateSet(user_id=1, candidates=[pb.TweetInfo(tweet_id=0)])]
            ),
            pb.PredictNextActionsRequest(candidate_sets=[pb.CandidateSet(user_id=1, candidates=_cands(300))]),
        ]
        for req in bad:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.PredictNextActions(req)
            codes.append(err.value.code())
        big = pb.PredictNextActionsRequest(
            candidate_sets=[pb.CandidateSet(user_id=1, candidates=_cands(200))]
        )
        outcomes = await asyncio.gather(
            *[stub.PredictNextActions(big) for _ in range(6)], return_exceptions=True
        )
        await channel.close()
        return codes, outcomes

    codes, outcomes = _run(scenario, max_queued_candidates=450)
    assert codes == [grpc.StatusCode.INVALID_ARGUMENT] * 3
    exhausted = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert exhausted and all(o.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for o in exhausted)
    assert any(isinstance(o, pb.PredictNextActionsResponse) for o in outcomes)


def test_reload_swaps_good_and_refuses_bad_checkpoints(tmp_path) -> None:
    good = tmp_path / "good"
    new_version = save_ranker(_model(seed=5), good)
    broken = tmp_path / "broken"
    save_ranker(_model(seed=6), broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    nan_dir = tmp_path / "nan"
    bad_model = _model(seed=7)
    with torch.no_grad():
        bad_model.action_head.weight.fill_(float("nan"))
    save_ranker(bad_model, nan_dir)

    async def scenario(addr, service):
        async with RankerClient(addr) as client:
            refused = [await client.reload(str(p)) for p in (broken, nan_dir, tmp_path / "missing")]
            _, _, still = await client.predict(_sequence(1, 2), _cands(2))
            ok = await client.reload(str(good))
            _, _, now = await client.predict(_sequence(1, 2), _cands(2))
            return refused, still, ok, now, service.engine.workers

    refused, still, ok, now, workers = _run(scenario, workers=2)
    assert all(not r.ok and r.model_version == "v-test" and r.message for r in refused)
    assert "NaN" in refused[1].message
    assert still == "v-test"
    assert ok.ok and ok.model_version == new_version and now == new_version
    assert workers == 2  # the reloaded engine keeps the server's chunk workers


def _packed(infos: list[pb.TweetInfo]) -> pb.PackedCandidates:
    """The columns of ``infos`` (the fields ``_cands`` and the packed tests set)."""
    return pack_candidates(
        {name: [getattr(t, name) for t in infos] for name in
         ("tweet_id", "author_id", "fav_count", "in_reply_to_tweet_id", "is_author_followed_by_user")},
        len(infos), np.array([list(t.semantic_ids)[:1] or [0] for t in infos]))


def test_packed_candidates_get_the_same_predictions_as_tweet_infos() -> None:
    infos = _cands(7)
    infos[1].fav_count, infos[2].in_reply_to_tweet_id, infos[3].is_author_followed_by_user = 40, 5, True
    infos[4].semantic_ids.append(3)

    async def scenario(addr, service):
        async with RankerClient(addr) as client:
            classic = await client.predict(_sequence(1, 5), infos)
            packed = await client.predict_packed(_sequence(1, 5), _packed(infos))
            empty = await client.predict_packed(_sequence(1, 5), pack_candidates({}, 0))
            return classic, packed, empty

    (probs, dwell, version), packed, empty = _run(scenario)
    assert packed.version == version == "v-test" and len(packed) == len(infos) and len(empty) == 0
    assert packed.tweet_ids.tolist() == [t.tweet_id for t in infos]
    assert set(packed.actions) == {h.name for h in DISCRETE_ACTIONS}
    for row, t in enumerate(infos):  # the same float32 log-probs, exponentiated the same way: equal
        assert dict(zip(packed.actions, packed.probabilities[row].tolist(), strict=True)) == probs[t.tweet_id]
        assert packed.dwell_s[row] == dwell[t.tweet_id]


def test_malformed_packed_candidates_are_invalid_argument() -> None:
    good = _packed(_cands(3))

    def changed(**fields) -> pb.PackedCandidates:
        out = pb.PackedCandidates()
        out.CopyFrom(good)
        for name, value in fields.items():
            setattr(out, name, value)
        return out

    cases = {
        "both": pb.CandidateSet(user_id=1, candidates=_cands(1), packed=good),
        "short": pb.CandidateSet(user_id=1, packed=changed(author_id=good.author_id[:-3])),
        "zero": pb.CandidateSet(user_id=1, packed=changed(tweet_id=bytes(24))),
        "levels": pb.CandidateSet(user_id=1, packed=changed(semantic_ids=bytes(12), semantic_id_levels=0)),
        "too many": pb.CandidateSet(user_id=1, packed=pb.PackedCandidates(count=10_000)),
        "negative": pb.CandidateSet(user_id=1, packed=pb.PackedCandidates(count=-1)),
    }

    async def scenario(addr, service):
        channel = grpc.aio.insecure_channel(addr)
        stub = recsys_pb2_grpc.RecsysPredictorStub(channel)
        out = {}
        for name, cs in cases.items():
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.PredictNextActions(pb.PredictNextActionsRequest(candidate_sets=[cs]))
            out[name] = (err.value.code(), err.value.details())
        await channel.close()
        return out

    out = _run(scenario)
    assert all(code == grpc.StatusCode.INVALID_ARGUMENT for code, _ in out.values()), out
    assert "both" in out["both"][1] and "author_id" in out["short"][1] and "tweet_id" in out["zero"][1]
    assert "semantic_id" in out["levels"][1] and "at most" in out["too many"][1]


def test_default_workers_use_every_core_at_the_thread_count(monkeypatch) -> None:
    import os

    from phoenix.ranker.server import default_workers

    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert default_workers(8) == 2 and default_workers(1) == 16 and default_workers(32) == 1
    assert default_workers() == 2  # at the default threads: half the cores
