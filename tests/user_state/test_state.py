"""One set of scenarios run against both RedisUserState (real redis-server) and InMemoryUserState,
so the two implementations cannot drift apart."""

from __future__ import annotations

import asyncio

import pytest

from events.world.actions import ACTION_NUMBERS
from infra.snowflake import make_snowflake
from protos import events_pb2, recsys_pb2
from user_state.memory import InMemoryUserState
from user_state.reader import AuthorStats, UserStateReader
from user_state.redis_state import RedisUserState
from user_state.settings import UserStateSettings

T0 = 1_800_000_000_000


def eng(eid: str, user: int, post: int, action: str, ts: int, author: int = 50, dwell: int = 0):
    return events_pb2.EngagementEvent(event_id=eid, user_id=user, post_id=post, author_id=author,
                                      action=ACTION_NUMBERS[action], timestamp_ms=ts, dwell_time_ms=dwell,
                                      product_surface=recsys_pb2.HOME_TIMELINE_RANKING)


def social(eid: str, user: int, action: int, target: int = 0, keyword: str = ""):
    return events_pb2.SocialGraphEvent(event_id=eid, user_id=user, action=action, target_user_id=target,
                                       keyword=keyword, timestamp_ms=T0)


def post(pid: int, author: int = 50, **kw):
    return events_pb2.PostEvent(event_id=f"p{pid}", created=events_pb2.PostCreated(post_id=pid, author_id=author, **kw))


@pytest.fixture(params=["memory", "redis"])
def state(request):
    settings = UserStateSettings(events_cap=8)
    if request.param == "memory":
        yield InMemoryUserState(settings)
        return
    request.getfixturevalue("redis_client")  # flushes the db
    url = request.getfixturevalue("redis_url")
    st = RedisUserState.from_url(url, settings)
    yield st
    asyncio.run(st.close())


def run(coro):
    return asyncio.run(coro)


async def _in_loop(state, fn):
    """Redis clients are bound to the loop that first used them: run a whole scenario in one."""
    try:
        return await fn(state)
    finally:
        if isinstance(state, RedisUserState):
            await state.client.connection_pool.disconnect()


def test_implements_reader(state) -> None:
    assert isinstance(state, UserStateReader)


def test_sequence_aggregates_per_post_newest_last(state) -> None:
    p1, p2, p3, rp = (make_snowflake(T0 - 10_000, i) for i in range(1, 5))

    async def scenario(s):
        await s.apply([post(p1, topic_id=3), post(p2, is_reply=True, in_reply_to_post_id=p1, in_reply_to_user_id=50),
                       post(rp, author=60, is_retweet=True, source_post_id=p1, source_user_id=50, topic_id=4)])
        await s.apply([
            eng("e1", 1, p1, "impression", T0), eng("e2", 1, p1, "dwell", T0 + 10, dwell=4000),
            eng("e3", 1, p2, "impression", T0 + 20),
            eng("e4", 1, p3, "impression", T0 + 30), eng("e5", 1, p3, "not_dwelled", T0 + 31),
            eng("e6", 1, rp, "impression", T0 + 40, author=60), eng("e7", 1, rp, "favorite", T0 + 41, author=60),
            eng("e8", 1, p1, "favorite", T0 + 50),
        ])
        return await s.action_sequence(1), await s.action_sequence(1, max_len=1)

    seq, short = run(_in_loop(state, scenario))
    assert seq.user_id == 1
    # p2 (impression only) and p3 (impression + not dwelled) carry no engagement.
    infos = [a.tweet_info for a in seq.user_actions]
    assert [i.retweeting_tweet_id or i.tweet_id for i in infos] == [rp, p1]  # p1's latest action is newest
    repost = seq.user_actions[0]
    assert repost.tweet_info.tweet_id == p1 and repost.tweet_info.author_id == 50
    assert repost.tweet_info.retweeting_author_id == 60 and repost.impressed_time_ms == T0 + 40
    # Semantic ids (level 0 = topic) from the post's core data; a repost carries its own.
    assert list(repost.tweet_info.semantic_ids) == [4] and list(infos[1].semantic_ids) == [3]
    p1_actions = seq.user_actions[1].actions
    assert [a.action_name for a in p1_actions] == [recsys_pb2.CLIENT_TWEET_RECAP_DWELLED, recsys_pb2.SERVER_TWEET_FAV]
    assert p1_actions[0].dwell_time_ms == 4000
    assert p1_actions[0].product_surface == recsys_pb2.HOME_TIMELINE_RANKING
    assert seq.user_actions[1].impressed_time_ms == T0
    assert len(short.user_actions) == 1 and short.user_actions[0].tweet_info.tweet_id == p1


def test_event_list_is_capped(state) -> None:
    async def scenario(s):
        await s.apply([eng(f"e{i}", 2, 100 + i, "favorite", T0 + i) for i in range(20)])
        return await s.action_sequence(2)

    seq = run(_in_loop(state, scenario))
    assert [a.tweet_info.tweet_id for a in seq.user_actions] == list(range(112, 120))


def test_idempotent_by_event_id(state) -> None:
    events = [eng("x1", 3, 7, "impression", T0), eng("x2", 3, 7, "favorite", T0 + 1),
              social("g1", 3, events_pb2.FOLLOW, 50), post(7)]

    async def scenario(s):
        first = await s.apply(events)
        again = await s.apply(events + events)
        return first, again, await s.engagement_counts([7]), await s.author_stats([50]), await s.action_sequence(3)

    first, again, counts, stats, seq = run(_in_loop(state, scenario))
    assert (first, again) == (4, 0)
    assert counts == {7: {"impression": 1, "favorite": 1}}
    assert stats == {50: AuthorStats(followers=1, impressions=1)}
    assert len(seq.user_actions) == 1 and len(seq.user_actions[0].actions) == 1


def test_social_graph(state) -> None:
    async def scenario(s):
        await s.apply([
            social("a", 1, events_pb2.FOLLOW, 2), social("b", 1, events_pb2.FOLLOW, 3), social("c", 1, events_pb2.FOLLOW, 3),
            social("d", 3, events_pb2.FOLLOW, 1), social("e", 1, events_pb2.UNFOLLOW, 2),
            social("f", 1, events_pb2.BLOCK, 9), social("g", 1, events_pb2.MUTE, 8), social("h", 1, events_pb2.MUTE, 7),
            social("i", 1, events_pb2.UNMUTE, 7), social("j", 1, events_pb2.MUTE_KEYWORD, keyword=" Spoilers "),
            social("k", 1, events_pb2.MUTE_KEYWORD, keyword="crypto"), social("l", 1, events_pb2.UNMUTE_KEYWORD, keyword="CRYPTO"),
            social("m", 1, events_pb2.UNFOLLOW, 99),  # not followed: no negative counts
        ])
        return (await s.following(1), await s.followers_of_viewer_among(1, [2, 3, 4]), await s.blocked(1),
                await s.muted(1), await s.muted_keywords(1), await s.author_stats([2, 3, 99, 12345]),
                await s.following(42))

    following, back, blocked, muted, kws, stats, nobody = run(_in_loop(state, scenario))
    assert following == {3}
    assert back == {3}
    assert blocked == {9} and muted == {8}
    assert kws == {"spoilers"}
    assert stats[2] == AuthorStats(0, 0) and stats[3] == AuthorStats(1, 0) and stats[99] == AuthorStats(0, 0)
    assert stats[12345] == AuthorStats()
    assert nobody == set()


def test_posts_and_deletes(state) -> None:
    async def scenario(s):
        await s.apply([post(11, text="hello"), post(12, text="bye"),
                       events_pb2.PostEvent(event_id="d12", deleted=events_pb2.PostDeleted(post_id=12, author_id=50)),
                       events_pb2.PostEvent(event_id="d13", deleted=events_pb2.PostDeleted(post_id=13, author_id=50))])
        await s.apply([post(13, text="deleted before it arrived")])
        return await s.posts([11, 12, 13, 14]), await s.engagement_counts([11])

    posts, counts = run(_in_loop(state, scenario))
    assert list(posts) == [11] and posts[11].text == "hello"
    assert counts == {11: {}}


def test_malformed_events_are_counted_and_skipped(state) -> None:
    bad = [events_pb2.EngagementEvent(event_id="", user_id=1, post_id=1, action=1),
           events_pb2.EngagementEvent(event_id="z", user_id=0, post_id=1, action=1),
           social("s", 1, events_pb2.FOLLOW, 0), social("t", 1, events_pb2.MUTE_KEYWORD, keyword="  "),
           events_pb2.PostEvent(event_id="q")]

    async def scenario(s):
        n = await s.apply(bad + [eng("ok", 1, 5, "favorite", T0), events_pb2.ServedFeed(event_id="r")])
        return n, await s.engagement_counts([5])

    n, counts = run(_in_loop(state, scenario))
    assert n == 1 and counts[5] == {"favorite": 1}
    assert state.malformed == len(bad) and state.ignored == 1
