"""gRPC input fuzzing of every service with hypothesis: 10,000+ requests over loopback.

Thunder, the ranker, retrieval and home-mixer run for real in one background event loop, wired
together (home-mixer calls the three over gRPC; state in a private Redis; posts through Kafka).
Every generated request must end in OK, INVALID_ARGUMENT or RESOURCE_EXHAUSTED: never INTERNAL,
UNKNOWN or a dead server. ReloadModel with bogus paths must answer ok=false (documented: a
refused checkpoint keeps the current model and says why), never an error status. Oversized
requests are checked deterministically: refused (home-mixer, retrieval, the ranker) or
truncated (Thunder: following/exclude lists beyond 10,000, as X documents).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from home_mixer.local_stack import fresh_ranker_engine, fresh_retrieval_model
from home_mixer.server import start_home_mixer
from home_mixer.settings import HomeMixerSettings
from infra.embedded import RedisServer
from infra.kafka_io import ensure_topics
from infra.settings import ConnectionSettings
from phoenix.ranker.server import serve as serve_ranker
from phoenix.retrieval.index import IndexConfig
from phoenix.retrieval.live_index import LiveIndex
from phoenix.retrieval.server import serve as serve_retrieval
from protos import (
    home_mixer_pb2,
    home_mixer_pb2_grpc,
    recsys_pb2,
    recsys_pb2_grpc,
    thunder_pb2,
    thunder_pb2_grpc,
)
from tests.home_mixer.service.harness import make_world
from tests.reliability.helpers import produce_raw
from thunder.server import start_thunder
from thunder.settings import ThunderSettings
from user_state.redis_state import RedisUserState

pytestmark = pytest.mark.integration

ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED}


def fuzz(examples: int) -> settings:
    """Deterministic (same examples on every run, CI-friendly), no per-example deadline."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
CALL_TIMEOUT_S = 20.0

INT64 = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-3, 50), st.sampled_from([0, 1, 2**63 - 1, -(2**63)]))
UINT64 = st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 50))
INT32 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-3, 300))
UINT32 = st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 300))
TEXT = st.text(max_size=20)


class LoopThread:
    """An asyncio loop on a thread: the servers live there, the sync test thread calls them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-servers", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout_s: float = 120.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Stubs:
    thunder: thunder_pb2_grpc.InNetworkPostsServiceStub
    ranker: recsys_pb2_grpc.RecsysPredictorStub
    retrieval: recsys_pb2_grpc.RecsysRetrievalPredictorStub
    home_mixer: home_mixer_pb2_grpc.ForYouFeedServiceStub
    alive: list[grpc.Channel]
    calls: dict[str, int]


@pytest.fixture(scope="module")
def stubs(kafka_bootstrap: str) -> Iterator[Stubs]:
    world = make_world()
    topic = f"fuzz-grpc-{uuid.uuid4().hex[:8]}"
    ensure_topics([topic], partitions=1, bootstrap=kafka_bootstrap)
    produce_raw(kafka_bootstrap, topic, [(str(e.created.author_id).encode(), e.SerializeToString())
                                         for e in world.events if hasattr(e, "created")])
    redis = RedisServer().start()
    loop = LoopThread()
    stops: list = []
    channels: list[grpc.Channel] = []
    try:
        async def start() -> dict[str, str]:
            state = RedisUserState.from_url(redis.url)
            await state.apply(world.events)
            stops.append(state.close)
            thunder = await start_thunder(ThunderSettings(host="127.0.0.1", port=0, metrics_port=0, qps_limit=1e6),
                                          bootstrap=kafka_bootstrap, topic=topic, instance="fuzz")
            stops.append(thunder.stop)
            assert await thunder.wait_serving(60)
            model = fresh_retrieval_model()
            live = LiveIndex(model, "fuzz", IndexConfig(dim=model.cfg.dim))
            live.apply(e for e in world.events if hasattr(e, "created"))
            retrieval, _ = await serve_retrieval(live, state)
            stops.append(lambda: retrieval.stop(0.5))
            ranker, ranker_service = await serve_ranker(fresh_ranker_engine())
            stops.append(ranker_service.batcher.stop)
            stops.append(lambda: ranker.stop(0.5))
            connection = ConnectionSettings(
                kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis.url, thunder_addr=thunder.address,
                retrieval_addr=f"127.0.0.1:{retrieval.port}", ranker_addr=f"127.0.0.1:{ranker.port}")
            mixer = await start_home_mixer(HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0,
                                                             publish_served=False, request_deadline_s=5.0,
                                                             client_timeout_s=5.0), connection)
            stops.append(mixer.stop)
            return {"thunder": thunder.address, "ranker": f"127.0.0.1:{ranker.port}",
                    "retrieval": f"127.0.0.1:{retrieval.port}", "home_mixer": mixer.address}

        addresses = loop.run(start())
        channels = [grpc.insecure_channel(addresses[name]) for name in ("thunder", "ranker", "retrieval", "home_mixer")]
        yield Stubs(thunder_pb2_grpc.InNetworkPostsServiceStub(channels[0]),
                       recsys_pb2_grpc.RecsysPredictorStub(channels[1]),
                       recsys_pb2_grpc.RecsysRetrievalPredictorStub(channels[2]),
                       home_mixer_pb2_grpc.ForYouFeedServiceStub(channels[3]), channels, {})
    finally:
        for channel in channels:
            channel.close()

        async def stop_all() -> None:
            for stop in reversed(stops):
                result = stop()
                if asyncio.iscoroutine(result):
                    await result

        try:
            loop.run(stop_all(), 60)
        finally:
            loop.close()
            redis.cleanup()


def _call(stubs: Stubs, name: str, method, request) -> grpc.StatusCode:  # noqa: ANN001
    """One call; returns its status code, failing the test on anything not allowed."""
    stubs.calls[name] = stubs.calls.get(name, 0) + 1
    try:
        method(request, timeout=CALL_TIMEOUT_S)
        code = grpc.StatusCode.OK
    except grpc.RpcError as err:
        code = err.code()
        assert code in ALLOWED, f"{name} answered {code}: {err.details()} for {request!r:.300}"
    return code


# -- strategies --------------------------------------------------------------------------------------

tweet_infos = st.builds(
    recsys_pb2.TweetInfo, tweet_id=INT64, author_id=INT64, retweeting_tweet_id=INT64, in_reply_to_tweet_id=INT64,
    fav_count=INT64, reply_count=INT64, view_count=INT64, min_video_duration_ms=INT64, created_at_ms=INT64,
    is_author_followed_by_user=st.booleans())
actions = st.builds(recsys_pb2.ActionInfo, action_name=INT32, engagement_time_ms=INT64, dwell_time_ms=INT64,
                    product_surface=INT32)
sequences = st.builds(
    recsys_pb2.UserActionSequence, user_id=INT64,
    user_actions=st.lists(st.builds(recsys_pb2.AggregatedUserAction, tweet_info=tweet_infos,
                                    actions=st.lists(actions, max_size=3), impressed_time_ms=INT64), max_size=4))
candidate_sets = st.builds(recsys_pb2.CandidateSet, user_id=INT64, candidates=st.lists(tweet_infos, max_size=5),
                           product_surface=INT32)


# -- the fuzzers --------------------------------------------------------------------------------------


@fuzz(4000)
@given(st.builds(thunder_pb2.GetInNetworkPostsRequest, user_id=UINT64,
                 following_user_ids=st.lists(st.one_of(st.integers(1, 40), UINT64), max_size=30),
                 max_results=UINT32, exclude_tweet_ids=st.lists(UINT64, max_size=10), algorithm=TEXT,
                 debug=st.booleans(), is_video_request=st.booleans()))
def test_fuzz_thunder_get_in_network_posts(stubs: Stubs, request: thunder_pb2.GetInNetworkPostsRequest) -> None:
    _call(stubs, "thunder", stubs.thunder.GetInNetworkPosts, request)


@fuzz(1500)
@given(st.builds(recsys_pb2.PredictNextActionsRequest, sequences=st.lists(sequences, max_size=2),
                 candidate_sets=st.lists(candidate_sets, max_size=2), return_logprob=st.booleans(), metadata=TEXT))
def test_fuzz_ranker_predict_next_actions(stubs: Stubs, request: recsys_pb2.PredictNextActionsRequest) -> None:
    _call(stubs, "ranker", stubs.ranker.PredictNextActions, request)


@fuzz(2500)
@given(st.builds(recsys_pb2.RetrieveTopKCandidatesRequest, user_ids=st.lists(INT64, max_size=3),
                 sequences=st.lists(sequences, max_size=3), top_k=st.one_of(INT32, st.integers(-2, 50)),
                 metadata=TEXT, exclude_post_ids=st.lists(INT64, max_size=5)))
def test_fuzz_retrieval_retrieve_top_k(stubs: Stubs, request: recsys_pb2.RetrieveTopKCandidatesRequest) -> None:
    _call(stubs, "retrieval", stubs.retrieval.RetrieveTopKCandidates, request)


@fuzz(1500)
@given(st.builds(home_mixer_pb2.ForYouFeedRequest, viewer_id=st.one_of(INT64, st.integers(-2, 40)),
                 seen_ids=st.lists(INT64, max_size=8), served_ids=st.lists(INT64, max_size=8),
                 in_network_only=st.booleans(), exclude_videos=st.booleans(), max_results=UINT32,
                 debug=st.booleans(), request_id=TEXT, is_bottom_request=st.booleans()))
def test_fuzz_home_mixer_get_for_you_feed(stubs: Stubs, request: home_mixer_pb2.ForYouFeedRequest) -> None:
    _call(stubs, "home_mixer", stubs.home_mixer.GetForYouFeed, request)


BOGUS_PATHS = st.one_of(TEXT, st.sampled_from(["/", "/etc/passwd", "/dev/null", "/proc/self/mem", "..", "~",
                                               "/nonexistent/ckpt", "\x00", "a" * 4096]),
                        st.builds(lambda p: f"/tmp/{p}", st.text(min_size=1, max_size=12)))


@fuzz(500)
@given(BOGUS_PATHS, st.sampled_from(["ranker", "retrieval"]))
def test_fuzz_reload_model_with_bogus_paths_is_refused_and_keeps_serving(
        stubs: Stubs, path: str, which: str) -> None:
    stub = stubs.ranker if which == "ranker" else stubs.retrieval
    stubs.calls[f"reload_{which}"] = stubs.calls.get(f"reload_{which}", 0) + 1
    reply = stub.ReloadModel(recsys_pb2.ReloadModelRequest(checkpoint_path=path), timeout=CALL_TIMEOUT_S)
    assert not reply.ok and reply.message and reply.model_version


def test_fuzzing_made_10000_requests_and_every_service_is_still_healthy(stubs: Stubs, tmp_path: Path) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    if not stubs.calls:
        pytest.skip("the fuzzers above did not run in this session (-k selection)")
    assert sum(stubs.calls.values()) >= 10_000, stubs.calls
    assert {"thunder", "ranker", "retrieval", "home_mixer", "reload_ranker", "reload_retrieval"} <= set(stubs.calls)
    for channel in stubs.alive:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    # a viewer the fuzzer never used (viewer 1's posts are all "previously served" by now)
    feed = stubs.home_mixer.GetForYouFeed(home_mixer_pb2.ForYouFeedRequest(viewer_id=987_654_321_012), timeout=10)
    assert feed.posts, "still serving real feeds after the fuzzing"


# -- oversized requests (deterministic) -----------------------------------------------------------------


def test_oversized_requests_are_refused_or_truncated_as_documented(stubs: Stubs) -> None:
    big = list(range(1, 12_001))

    def code(method, request) -> grpc.StatusCode:  # noqa: ANN001
        try:
            method(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            return err.code()
        return grpc.StatusCode.OK

    # home-mixer: more than max_seen_ids / max_served_ids / max_results -> refused with the reason
    for kw in (dict(seen_ids=big), dict(served_ids=big), dict(max_results=10_000)):
        assert code(stubs.home_mixer.GetForYouFeed, home_mixer_pb2.ForYouFeedRequest(viewer_id=1, **kw)) \
            == grpc.StatusCode.INVALID_ARGUMENT, kw
    # retrieval: more than 256 users or top_k beyond 10,000 -> refused
    assert code(stubs.retrieval.RetrieveTopKCandidates, recsys_pb2.RetrieveTopKCandidatesRequest(
        user_ids=list(range(1, 300)), top_k=10)) == grpc.StatusCode.INVALID_ARGUMENT
    assert code(stubs.retrieval.RetrieveTopKCandidates, recsys_pb2.RetrieveTopKCandidatesRequest(
        user_ids=[1], top_k=10_001)) == grpc.StatusCode.INVALID_ARGUMENT
    # ranker: more candidates than the model's max_candidates (2,800) -> refused
    too_many = recsys_pb2.CandidateSet(user_id=1, candidates=[recsys_pb2.TweetInfo(tweet_id=i, author_id=1)
                                                               for i in range(1, 3_000)])
    assert code(stubs.ranker.PredictNextActions, recsys_pb2.PredictNextActionsRequest(
        sequences=[recsys_pb2.UserActionSequence(user_id=1)], candidate_sets=[too_many])) \
        == grpc.StatusCode.INVALID_ARGUMENT
    strangers = list(range(100_000, 112_000))  # authors with no posts
    # Thunder: following / exclude lists are truncated to 10,000 (X's MAX_INPUT_LIST_SIZE), answered OK
    started = time.monotonic()
    reply = stubs.thunder.GetInNetworkPosts(thunder_pb2.GetInNetworkPostsRequest(
        user_id=1, following_user_ids=[*strangers[:9_990], 10, 11, 12], exclude_tweet_ids=big), timeout=CALL_TIMEOUT_S)
    assert time.monotonic() - started < CALL_TIMEOUT_S
    assert reply.posts and {p.author_id for p in reply.posts} <= {10, 11, 12}
    truncated = stubs.thunder.GetInNetworkPosts(thunder_pb2.GetInNetworkPostsRequest(
        user_id=1, following_user_ids=[*strangers[:10_000], 10, 11, 12]), timeout=CALL_TIMEOUT_S)
    assert not truncated.posts, "authors beyond the first 10,000 followees are dropped"
