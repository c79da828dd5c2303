"""End to end: real tansu broker -> Thunder ingest -> real grpc.aio server -> ThunderClient."""

from __future__ import annotations

import asyncio
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infra.kafka_io import ensure_topics, make_producer
from infra.topics import key_for
from protos import events_pb2, thunder_pb2, thunder_pb2_grpc
from tests.thunder import scenarios as s
from thunder.client import ThunderClient
from thunder.light_posts import LightPosts
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET
from thunder.server import ThunderServer, start_thunder
from thunder.settings import ThunderSettings

pytestmark = pytest.mark.integration


def _created(post: dict) -> events_pb2.PostEvent:
    return events_pb2.PostEvent(event_id=f"c{post['post_id']}", created=events_pb2.PostCreated(**post))


def _deleted(post_id: int, author_id: int) -> events_pb2.PostEvent:
    return events_pb2.PostEvent(event_id=f"d{post_id}",
                                deleted=events_pb2.PostDeleted(post_id=post_id, author_id=author_id, deleted_at=int(time.time())))


def _produce(bootstrap: str, topic: str, events: list[events_pb2.PostEvent | tuple[int, bytes]]) -> None:
    producer = make_producer(bootstrap)
    try:
        for ev in events:
            if isinstance(ev, tuple):
                producer.send(topic, key=key_for(ev[0]), value=ev[1])
            else:
                author = ev.created.author_id if ev.HasField("created") else ev.deleted.author_id
                producer.send(topic, key=key_for(author), value=ev.SerializeToString())
        producer.flush(10)
    finally:
        producer.close()


def _messages(posts: LightPosts) -> list[bytes]:
    """Columns as serialized ``LightPost`` messages (to compare with the message layout)."""
    cols, flags = posts.columns, posts.flags
    return [thunder_pb2.LightPost(**{name: int(cols[name][i]) for name in INT_COLUMNS},
                                  is_retweet=bool(flags[i] & IS_RETWEET), is_reply=bool(flags[i] & IS_REPLY),
                                  has_video=bool(flags[i] & HAS_VIDEO)).SerializeToString() for i in range(len(posts))]


def _settings(**kw) -> ThunderSettings:
    return ThunderSettings(port=0, host="127.0.0.1", metrics_port=0, **kw)


async def _started(bootstrap: str, topic: str, instance: str, **kw) -> ThunderServer:
    server = await start_thunder(_settings(**kw), bootstrap=bootstrap, topic=topic, instance=instance)
    if not await server.wait_serving(30):
        await server.stop()
        raise AssertionError(f"{instance} did not catch up")
    return server


async def _health(address: str) -> int:
    async with grpc.aio.insecure_channel(address) as ch:
        resp = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""))
        return resp.status


def test_x_scenarios_malformed_health_errors_and_restart(kafka_bootstrap: str, unique_name: str) -> None:
    topic = f"posts-{unique_name}"
    ensure_topics([topic], partitions=3, bootstrap=kafka_bootstrap)
    now = int(time.time())
    good = [_created(p) for p in s.reply_posts(now) + s.ten_originals(now)]
    malformed = [(1, b"\xff\xfe not protobuf"), (2, events_pb2.PostEvent(event_id="empty").SerializeToString()),
                 (3, _created(dict(post_id=0, author_id=3, created_at=now - 1)).SerializeToString())]
    events: list = []
    for i, ev in enumerate(good):
        events.append(ev)
        if i % 5 == 0 and malformed:
            events.append(malformed.pop())
    events += [_created(dict(post_id=77, author_id=100, created_at=now - 200)), _deleted(77, 100), good[0]]
    _produce(kafka_bootstrap, topic, events)

    async def scenario() -> list:
        server = await start_thunder(_settings(), bootstrap=kafka_bootstrap, topic=topic, instance=f"a-{unique_name}")
        try:
            assert await _health(server.address) == health_pb2.HealthCheckResponse.NOT_SERVING
            assert await server.wait_serving(30)
            assert await _health(server.address) == health_pb2.HealthCheckResponse.SERVING
            assert server.consumer.malformed == 3
            async with ThunderClient([server.address]) as client:
                replies = await client.get_in_network_posts(s.REPLY_VIEWER, s.REPLY_FOLLOWING)
                assert sorted(p.post_id for p in replies) == s.REPLY_EXPECTED
                top5 = await client.get_in_network_posts(1, [100], max_results=5)
                assert [p.post_id for p in top5] == [10, 9, 8, 7, 6]
                excl = await client.get_in_network_posts(1, [100], [8, 9, 10], max_results=5)
                assert [p.post_id for p in excl] == [7, 6, 5, 4, 3]
                reply_1002 = next(p for p in replies if p.post_id == 1002)
                assert (reply_1002.author_id, reply_1002.in_reply_to_post_id, reply_1002.is_reply) == (3, 1001, True)
                stub = thunder_pb2_grpc.InNetworkPostsServiceStub(client._channels[0])
                for bad, message in [(dict(user_id=0), "user_id is required"),
                                     (dict(user_id=1, following_user_ids=[2**64 - 1]), "following_user_ids[0]")]:
                    with pytest.raises(grpc.aio.AioRpcError) as err:
                        await stub.GetInNetworkPosts(thunder_pb2.GetInNetworkPostsRequest(**bad))
                    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                    assert message in (err.value.details() or "")
                before = await client.get_in_network_posts(1, [2, 3, 4, 5, 10, 100])
                assert 77 not in [p.post_id for p in before], "deleted post is not served"
                # packed: the same posts in the same order, as columns only; unpacked stays X's layout
                for viewer, following in ((1, [2, 3, 4, 5, 10, 100]), (s.REPLY_VIEWER, s.REPLY_FOLLOWING)):
                    want = await client.get_in_network_posts(viewer, following)
                    got = await client.get_in_network_columns(viewer, following)
                    assert _messages(got) == [p.SerializeToString() for p in want]
                request = thunder_pb2.GetInNetworkPostsRequest(user_id=1, following_user_ids=[2, 3, 4, 5, 10, 100])
                plain = await stub.GetInNetworkPosts(request)
                request.packed = True
                packed = await stub.GetInNetworkPosts(request)
                assert not plain.HasField("packed") and len(plain.posts) == len(before)
                assert not packed.posts and packed.packed.count == len(before)
        finally:
            await server.stop()
        # restart: a fresh store replays the same topic and must answer the same
        again = await _started(kafka_bootstrap, topic, f"b-{unique_name}")
        try:
            async with ThunderClient([again.address]) as client:
                after = await client.get_in_network_posts(1, [2, 3, 4, 5, 10, 100])
        finally:
            await again.stop()
        assert [p.SerializeToString() for p in after] == [p.SerializeToString() for p in before]
        return after

    assert len(asyncio.run(scenario())) == 14  # 10 originals + 1000 + 1001, 1002(by 3), 1004; not 1003/1005/1006


def test_qps_limit_answers_resource_exhausted(kafka_bootstrap: str, unique_name: str) -> None:
    topic = f"posts-{unique_name}"
    ensure_topics([topic], partitions=1, bootstrap=kafka_bootstrap)
    _produce(kafka_bootstrap, topic, [_created(p) for p in s.ten_originals(int(time.time()))])

    async def scenario() -> None:
        server = await _started(kafka_bootstrap, topic, f"q-{unique_name}", qps_limit=1)
        try:
            async with ThunderClient([server.address]) as client:
                assert len(await client.get_in_network_posts(1, [100])) == 10
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await client.get_in_network_posts(1, [100])
                assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert "QPS" in (err.value.details() or "")
        finally:
            await server.stop()

    asyncio.run(scenario())


def test_two_shards_merge_to_the_single_store_answer_packed_or_not(kafka_bootstrap: str, unique_name: str) -> None:
    topic = f"posts-{unique_name}"
    ensure_topics([topic], partitions=4, bootstrap=kafka_bootstrap)
    rng = np.random.default_rng(11)
    now = int(time.time())
    events: list = []
    posts: list[dict] = []
    for i in range(1, 1501):
        author = int(rng.integers(1, 60))
        post = dict(post_id=10_000 + i, author_id=author, created_at=now - 3000 + i // 2, conversation_id=10_000 + i)
        kind = rng.random()
        if kind < 0.3 and posts:
            parent = posts[int(rng.integers(0, len(posts)))]
            post.update(in_reply_to_post_id=parent["post_id"], in_reply_to_user_id=parent["author_id"], is_reply=True,
                        conversation_id=parent["conversation_id"])
        elif kind < 0.4 and posts:
            src = posts[int(rng.integers(0, len(posts)))]
            post.update(is_retweet=True, source_post_id=src["post_id"], source_user_id=src["author_id"])
        post["has_video"] = bool(rng.random() < 0.2)
        posts.append(post)
        events.append(_created(post))
        if rng.random() < 0.03:
            victim = posts[int(rng.integers(0, len(posts)))]
            events.append(_deleted(victim["post_id"], victim["author_id"]))
    _produce(kafka_bootstrap, topic, events)

    async def scenario() -> None:
        servers = [await _started(kafka_bootstrap, topic, f"{name}-{unique_name}", partitions=parts)
                   for name, parts in (("all", None), ("s0", [0, 1]), ("s1", [2, 3]))]
        try:
            assert len(servers[1].store) > 0 and len(servers[2].store) > 0
            assert len(servers[1].store) + len(servers[2].store) == len(servers[0].store)
            async with ThunderClient([servers[0].address]) as single, \
                    ThunderClient([servers[1].address, servers[2].address]) as sharded:
                for viewer in range(1, 8):
                    following = sorted(set(rng.integers(1, 60, 25).tolist()))
                    exclude = [p["post_id"] for p in posts[::37]]
                    for kwargs in (dict(max_results=100), dict(), dict(is_video_request=True, max_results=50)):
                        want = await single.get_in_network_posts(viewer, following, exclude, **kwargs)
                        got = await sharded.get_in_network_posts(viewer, following, exclude, **kwargs)
                        assert want, "the comparison must not be vacuous"
                        assert [p.SerializeToString() for p in got] == [p.SerializeToString() for p in want]
                        # packed columns: the same posts in the same order, from one store or merged
                        for client in (single, sharded):
                            columns = await client.get_in_network_columns(viewer, following, exclude, **kwargs)
                            assert _messages(columns) == [p.SerializeToString() for p in want]
        finally:
            for server in servers:
                await server.stop()

    asyncio.run(scenario())
