"""GetForYouFeed over gRPC with the production wiring: ordering, explanations, validation."""

from __future__ import annotations

import asyncio
import math

import grpc
import pytest

from protos import recsys_pb2 as rp
from tests.home_mixer.service.fake_services import RANKER_VERSION
from tests.home_mixer.service.harness import BLOCKED, FOLLOWED, MUTED, VIEWER, feed_stack

pytestmark = pytest.mark.integration


def test_feed_is_ordered_filtered_and_explained(kafka_bootstrap: str) -> None:
    async def go():
        async with feed_stack(kafka_bootstrap) as s:
            seen = s.world.post_of(12).post_id
            return s.world, seen, await s.client.get_feed(VIEWER, seen_ids=[seen], debug=True)

    world, seen, feed = asyncio.run(go())
    assert feed.degraded == []
    assert feed.model_version == RANKER_VERSION
    assert 0 < len(feed.posts) <= 35
    scores = [p.score for p in feed.posts]
    assert scores == sorted(scores, reverse=True)
    by_id = {p.post_id: p for p in world.posts}
    for post in feed.posts:
        author = by_id[post.tweet_id].author_id
        assert author not in (BLOCKED, MUTED, VIEWER)
        assert post.tweet_id != seen
        assert "spoiler" not in post.tweet_text.lower()
        assert post.in_network == (author in FOLLOWED)
        assert post.served_type == (rp.FOR_YOU_IN_NETWORK if post.in_network else rp.FOR_YOU_PHOENIX_RETRIEVAL)
        exp = post.explanation
        assert exp.scored and exp.terms
        # negative_sum is the magnitude of the negative terms
        assert math.isclose(exp.positive_sum - exp.negative_sum, sum(t.contribution for t in exp.terms), rel_tol=1e-6)
        for t in exp.terms:
            assert math.isclose(t.contribution, t.probability * t.weight, rel_tol=1e-6, abs_tol=1e-12)
        assert math.isclose(exp.final_score, post.score, rel_tol=1e-9)
        assert exp.oon_multiplier == (1.0 if post.in_network else 0.75)
        assert 0.25 <= exp.author_diversity_multiplier <= 1.0
    assert {p.tweet_id for p in feed.posts} & {p.post_id for p in world.posts if p.author_id in FOLLOWED}
    removed_by = {r.tweet_id: r.removed_by for r in feed.removed}
    assert seen not in removed_by  # Thunder already excluded it at the source
    assert removed_by[world.post_of(BLOCKED).post_id] == "AuthorSocialgraphFilter"
    assert removed_by[world.post_of(VIEWER).post_id] == "SelfTweetFilter"
    too_old = next(p for p in world.posts if p.text == "too old for the feed")
    assert removed_by[too_old.post_id] == "AgeFilter"
    stages = {t.stage: t for t in feed.stages}
    assert stages["ThunderSource"].status == "ok" and stages["ThunderSource"].kept > 0
    assert stages["PhoenixScorer"].latency_ms > 0


def test_without_debug_no_explanations_and_max_results(kafka_bootstrap: str) -> None:
    async def go():
        async with feed_stack(kafka_bootstrap) as s:
            return await s.client.get_feed(VIEWER, max_results=5)

    feed = asyncio.run(go())
    assert len(feed.posts) == 5
    assert not feed.removed and not feed.stages
    assert all(not p.HasField("explanation") for p in feed.posts)


def test_bad_requests_get_invalid_argument_with_the_reason(kafka_bootstrap: str) -> None:
    async def go():
        async with feed_stack(kafka_bootstrap) as s:
            out = []
            for kwargs in ({"viewer_id": 0}, {"viewer_id": -3}, {"viewer_id": 1, "seen_ids": range(1, 10_002)},
                           {"viewer_id": 1, "served_ids": range(1, 10_002)}, {"viewer_id": 1, "max_results": 201}):
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await s.client.get_feed(**kwargs)
                out.append((err.value.code(), err.value.details()))
            ok = await s.client.get_feed(1, seen_ids=range(1, 10_001), max_results=200)
            return out, ok

    errors, ok = asyncio.run(go())
    assert all(code == grpc.StatusCode.INVALID_ARGUMENT for code, _ in errors)
    details = [d for _, d in errors]
    assert "viewer_id must be > 0" in details[0] and "seen_ids has 10001" in details[2]
    assert "served_ids has 10001" in details[3] and "max_results must be <= 200" in details[4]
    assert ok.posts  # exactly at the limits is fine


def test_unknown_viewer_gets_an_out_of_network_feed(kafka_bootstrap: str) -> None:
    async def go():
        async with feed_stack(kafka_bootstrap) as s:
            return await s.client.get_feed(987_654)

    feed = asyncio.run(go())
    assert feed.posts and not feed.degraded
    assert all(not p.in_network for p in feed.posts)


def test_served_history_excludes_what_was_served_before(kafka_bootstrap: str) -> None:
    async def go():
        async with feed_stack(kafka_bootstrap) as s:
            following = await s.client.get_feed(VIEWER, in_network_only=True, max_results=4)
            await s.home_mixer.pipeline.drain_side_effects()
            first = await s.client.get_feed(VIEWER)
            await s.home_mixer.pipeline.drain_side_effects()
            second = await s.client.get_feed(VIEWER)
            return following, first, second

    following, first, second = asyncio.run(go())
    assert len(following.posts) == 4 and all(p.served_type == rp.RANKED_FOLLOWING for p in following.posts)
    assert len(first.posts) == 35 and second.posts
    ids = [{p.tweet_id for p in f.posts} for f in (following, first, second)]
    assert not ids[1] & ids[2] and not ids[0] & ids[2]
