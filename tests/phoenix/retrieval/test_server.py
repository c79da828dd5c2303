"""The retrieval gRPC service end to end: a real grpc.aio server, the real client, real FAISS."""

import asyncio
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infra.grpc_server import make_channel
from infra.kafka_io import ensure_topics, make_producer
from phoenix.retrieval.checkpoints import save_model
from phoenix.retrieval.client import RetrievalClient
from phoenix.retrieval.index import IndexConfig
from phoenix.retrieval.live_index import LiveIndex
from phoenix.retrieval.packed_hits import HitsError, pack_hits, unpack_hits
from phoenix.retrieval.server import SERVICE_NAME, serve
from protos import events_pb2, recsys_pb2, recsys_pb2_grpc
from tests.phoenix.retrieval.helpers import A, tiny_model
from tests.phoenix.retrieval.test_live_index import created, deleted
from user_state.memory import InMemoryUserState


def sequence(user_id, posts):
    seq = recsys_pb2.UserActionSequence(user_id=user_id)
    for p in posts:
        a = seq.user_actions.add()
        a.tweet_info.tweet_id, a.tweet_info.author_id = p, 3
        a.actions.add(action_name=A.SERVER_TWEET_FAV)
    return seq


def make_live():
    live = LiveIndex(tiny_model(), "v1", IndexConfig(dim=16))
    live.apply([created(p, at=time.time() - 60) for p in range(1, 101)])
    return live


def run(coro_fn, live, user_state=None):
    async def go():
        handle, _ = await serve(live, user_state)
        client = RetrievalClient(f"127.0.0.1:{handle.port}", timeout_s=10)
        try:
            return await coro_fn(client, handle)
        finally:
            await client.close()
            await handle.stop(0)
    return asyncio.run(go())


def test_retrieve_with_sequence_exclusions_and_health():
    async def body(client, handle):
        hits, version = await client.retrieve(5, sequence(5, [1, 2, 3]), top_k=10, exclude_ids=[4, 5, 6])
        channel = make_channel(f"127.0.0.1:{handle.port}")
        health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
        await channel.close()
        return hits, version, health.status

    hits, version, status = run(body, make_live())
    assert version == "v1" and len(hits) == 10
    assert not {4, 5, 6} & {p for p, _, _ in hits}
    assert all(a == 3 for _, a, _ in hits)
    assert [s for _, _, s in hits] == sorted((s for _, _, s in hits), reverse=True)
    assert status == health_pb2.HealthCheckResponse.SERVING


def test_history_is_fetched_from_the_user_state_store_when_absent():
    store = InMemoryUserState()
    store.apply_sync([events_pb2.EngagementEvent(event_id=f"e{p}", user_id=5, post_id=p, author_id=3,
                                                 action=A.SERVER_TWEET_FAV, timestamp_ms=1000 + p)
                      for p in (10, 20, 30)])
    live = make_live()

    async def body(client, handle):
        fetched, _ = await client.retrieve(5, None, top_k=5)
        explicit, _ = await client.retrieve(5, await store.action_sequence(5, 12), top_k=5)
        empty, _ = await client.retrieve(5, recsys_pb2.UserActionSequence(user_id=5), top_k=5)
        return fetched, explicit, empty

    fetched, explicit, empty = run(body, live, store)
    assert [p for p, _, _ in fetched] == [p for p, _, _ in explicit]
    assert [s for _, _, s in fetched] != [s for _, _, s in empty]


@pytest.mark.parametrize("request_kwargs, reason", [
    ({"user_ids": [], "top_k": 5}, "user_ids is empty"),
    ({"user_ids": [1], "top_k": 0}, "top_k"),
    ({"user_ids": [1, 2], "top_k": 5, "sequences": [recsys_pb2.UserActionSequence()]}, "must match"),
])
def test_bad_requests_get_invalid_argument(request_kwargs, reason):
    async def body(client, handle):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client._stub.RetrieveTopKCandidates(recsys_pb2.RetrieveTopKCandidatesRequest(**request_kwargs))
        return err.value

    err = run(body, make_live())
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and reason in err.details()


def test_reload_model_swaps_version_and_refuses_bad_checkpoints(tmp_path):
    version = save_model(tmp_path / "ck", tiny_model(seed=4))

    async def body(client, handle):
        bad = await client.reload(str(tmp_path / "nope"))
        good = await client.reload(str(tmp_path / "ck"))
        _, served_by = await client.retrieve(1, sequence(1, [1]), top_k=3)
        return bad, good, served_by

    bad, good, served_by = run(body, make_live())
    assert not bad.ok and bad.model_version == "v1" and "does not exist" in bad.message
    assert good.ok and good.model_version == version and served_by == version


@pytest.mark.integration
def test_live_ingest_from_the_real_broker(kafka_bootstrap, unique_name):
    topic = f"posts-{unique_name}"
    ensure_topics([topic], bootstrap=kafka_bootstrap)
    live = LiveIndex(tiny_model(), "v1", IndexConfig(dim=16))
    consumer = live.consumer(topic, bootstrap=kafka_bootstrap).start()
    producer = make_producer(kafka_bootstrap)
    try:
        now = time.time()
        for p in range(1, 31):
            producer.send(topic, key=b"3", value=created(p, at=now).SerializeToString())
        producer.send(topic, key=b"3", value=b"\xff not a protobuf")
        producer.send(topic, key=b"3", value=deleted(5).SerializeToString())
        producer.flush(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (len(live) == 29 and consumer.malformed >= 1):
            time.sleep(0.05)
        assert len(live) == 29 and 5 not in live and 30 in live
        assert consumer.malformed == 1
    finally:
        consumer.stop()
        producer.close(5)


def test_packed_hits_are_the_hits_of_the_message_layout():
    """The same request answered both ways: the same posts, authors and scores in the same order,
    and the client reads either layout."""
    request = recsys_pb2.RetrieveTopKCandidatesRequest(user_ids=[5, 6], top_k=20, exclude_post_ids=[4],
                                                       sequences=[sequence(5, [1, 2]), sequence(6, [])])

    async def body(client, handle):
        channel = make_channel(f"127.0.0.1:{handle.port}")
        stub = recsys_pb2_grpc.RecsysRetrievalPredictorStub(channel)
        plain = await stub.RetrieveTopKCandidates(request)
        request.packed = True
        packed = await stub.RetrieveTopKCandidates(request)
        single = await stub.RetrieveTopKCandidates(recsys_pb2.RetrieveTopKCandidatesRequest(
            user_ids=[5], top_k=20, exclude_post_ids=[4], sequences=[sequence(5, [1, 2])]))
        await channel.close()
        via_client, _ = await client.retrieve(5, sequence(5, [1, 2]), top_k=20, exclude_ids=[4])
        return plain, packed, (single, via_client)

    plain, packed, (single, via_client) = run(body, make_live())
    for message_layout, columns in zip(plain.top_k_candidates, packed.top_k_candidates, strict=True):
        expected = [(c.candidate.tweet_id, c.candidate.author_id, c.score) for c in message_layout.candidates]
        assert len(expected) == 20 and not columns.candidates
        assert unpack_hits(columns.packed) == expected
    assert via_client == [(c.candidate.tweet_id, c.candidate.author_id, c.score)
                          for c in single.top_k_candidates[0].candidates]


def test_bad_packed_hits_are_refused_with_the_reason():
    good = pack_hits(np.array([1, 2]), np.array([3, 4]), np.array([0.5, 0.25]))
    assert unpack_hits(good) == [(1, 3, 0.5), (2, 4, 0.25)]
    with pytest.raises(HitsError, match="score has 4 bytes"):
        unpack_hits(recsys_pb2.PackedHits(count=2, tweet_id=good.tweet_id, author_id=good.author_id, score=bytes(4)))
    with pytest.raises(HitsError, match="count"):
        unpack_hits(recsys_pb2.PackedHits(count=-1))
    with pytest.raises(HitsError, match="author ids"):
        pack_hits(np.array([1]), np.array([]), np.array([1.0]))
