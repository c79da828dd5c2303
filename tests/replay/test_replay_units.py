"""Replay pieces on hand-made logs: sessions, per-request metrics, baselines, no future leakage."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from events.world.actions import ACTION_NUMBERS
from home_mixer.replay.inprocess import InMemoryFeedState, InProcessThunder, ReplayClock
from home_mixer.replay.request_metrics import default_weights, request_metrics
from home_mixer.replay.sessions import Session, pick_request_points, scan_sessions
from home_mixer.replay.state import ReplayState
from home_mixer.replay.strategies import (
    ChronologicalStrategy,
    Eligibility,
    PopularityStrategy,
    RandomStrategy,
    ServedItem,
)
from infra.snowflake import make_snowflake
from protos import events_pb2
from user_state.memory import InMemoryUserState

T0 = 1_735_689_600_000
HOUR = 3_600_000
VIEWER = 1


def post(pid_time: int, seq: int, author: int) -> events_pb2.PostEvent:
    pid = make_snowflake(pid_time, seq)
    return events_pb2.PostEvent(event_id=f"p{seq}", created=events_pb2.PostCreated(
        post_id=pid, author_id=author, created_at=pid_time // 1000, conversation_id=pid, text="t"))


def engagement(user: int, pid: int, action: str, t: int, request: str = "", seq: int = 0) -> events_pb2.EngagementEvent:
    return events_pb2.EngagementEvent(event_id=f"e{user}-{pid}-{action}-{t}-{seq}", user_id=user, post_id=pid,
                                      author_id=0, action=ACTION_NUMBERS[action], timestamp_ms=t, request_id=request)


def follow(user: int, target: int, t: int) -> events_pb2.SocialGraphEvent:
    return events_pb2.SocialGraphEvent(event_id=f"f{user}-{target}", user_id=user, target_user_id=target,
                                       action=events_pb2.FOLLOW, timestamp_ms=t)


def test_sessions_outcomes_and_gap_split() -> None:
    p1, p2 = post(T0, 1, 10).created.post_id, post(T0, 2, 11).created.post_id
    stream = [("engagements", engagement(1, p1, "impression", T0 + 10, "r1")),
              ("engagements", engagement(1, p1, "favorite", T0 + 20, "r1")),
              ("engagements", engagement(1, p2, "impression", T0 + 30, "r1")),
              ("engagements", engagement(1, p2, "not_interested", T0 + 40, "r1")),
              # no request ids: cut by a 30-minute gap
              ("engagements", engagement(2, p1, "impression", T0)),
              ("engagements", engagement(2, p2, "impression", T0 + 60_000)),
              ("engagements", engagement(2, p2, "impression", T0 + 2 * HOUR, seq=1))]
    scan = scan_sessions(stream)
    by_key = {s.key: s for s in scan.sessions}
    r1 = by_key["r1"]
    assert r1.shown == [p1, p2] and r1.engaged == {p1} and r1.negative == {p2} and r1.start_ms == T0 + 10
    assert sorted(len(s.shown) for s in scan.sessions if s.viewer_id == 2) == [1, 2]
    picked = pick_request_points(scan.sessions, T0 + 5, max_requests=1, seed=0)
    assert len(picked) == 1 and picked[0].start_ms >= T0 + 5


def test_metrics_on_a_hand_made_session() -> None:
    a, b, c, d = 101, 102, 103, 104
    session = Session("r", VIEWER, T0, shown=[a, b, c],
                      actions={a: {"impression", "favorite", "reply"}, b: {"impression", "dwell"},
                               c: {"impression", "report"}})
    served = [ServedItem(d, d, 7, T0 - HOUR), ServedItem(a, a, 7, T0 - 3 * HOUR), ServedItem(c, c, 8, T0 - HOUR)]
    w = default_weights()
    m = request_metrics(served, session, following={7}, now_ms=T0, weights=w)
    assert m["hr@10"] == 1.0 and m["mrr"] == pytest.approx(0.5)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3)) / 1.0)  # one relevant post, found at rank 2
    assert m["utility"] == pytest.approx(w["favorite"] + w["reply"] + w["report"])
    assert m["negative_rate"] == pytest.approx(1 / 3)
    assert m["author_diversity"] == pytest.approx(2 / 3) and m["in_network_share"] == pytest.approx(2 / 3)
    assert m["freshness_h"] == pytest.approx(5 / 3) and m["shown_overlap"] == pytest.approx(2 / 3)
    empty = request_metrics(served, Session("s", VIEWER, T0), set(), T0, w)
    assert math.isnan(empty["ndcg@35"]) and empty["utility"] == 0.0


def build_state() -> tuple[ReplayState, InMemoryFeedState, dict[str, int]]:
    clock = ReplayClock(T0)
    state = ReplayState(clock, None, InMemoryUserState(), InProcessThunder(clock))
    seen = InMemoryFeedState(clock)
    state.feed_states.append(seen)
    events = [("social_graph", follow(VIEWER, 10, T0 - HOUR), T0 - HOUR)]
    ids = {}
    for seq, (author, age_h) in enumerate([(10, 5), (10, 1), (20, 3), (20, 2), (VIEWER, 1)], start=1):
        t = T0 - age_h * HOUR
        ev = post(t, seq, author)
        ids[f"{author}-{age_h}"] = ev.created.post_id
        events.append(("posts", ev, t))
    events.sort(key=lambda e: e[2])
    for topic, msg, t in events:
        state.apply(topic, msg, t)
    for k in range(3):  # post by author 20, 3 h old: the most popular
        state.apply("engagements", engagement(2 + k, ids["20-3"], "favorite", T0 - 30 * 60_000 + k), T0 - 30 * 60_000 + k)
    state.apply("engagements", engagement(VIEWER, ids["10-5"], "impression", T0 - 1000), T0 - 1000)
    state.flush()
    return state, seen, ids


def serve(strategy, now: int = T0, index: int = 0) -> list[int]:
    return [s.post_id for s in asyncio.run(strategy.serve(Session("r", VIEWER, now), now, index))]


def test_baselines_behave_as_named() -> None:
    state, seen, ids = build_state()
    elig = Eligibility(state.user_state, seen)
    # chronological: followed author only, newest first, seen post and own post dropped
    assert serve(ChronologicalStrategy(state.thunder, state.user_state, elig)) == [ids["10-1"]]
    # popularity: most positive engagements first, then newest; own and seen posts never
    pop = serve(PopularityStrategy(state.pool, elig))
    assert pop[0] == ids["20-3"] and set(pop) == {ids["20-3"], ids["20-2"], ids["10-1"]}
    assert pop[1:] == [ids["10-1"], ids["20-2"]]
    # random: the same eligible set, seeded per request
    rnd = RandomStrategy(state.pool, elig, seed=3)
    assert set(serve(rnd)) == set(pop) and serve(rnd, index=5) == serve(rnd, index=5)


def test_no_future_post_is_served() -> None:
    state, seen, ids = build_state()
    elig = Eligibility(state.user_state, seen)
    future = post(T0 + HOUR, 99, 10)
    # A post from the future reaching the stores would be a leak; the thunder store refuses it at
    # T0 (created after "now") and the baselines never serve it.
    state.thunder.add(future.created)
    state.pool.add(future.created)
    state.flush()
    for strategy in (ChronologicalStrategy(state.thunder, state.user_state, elig), PopularityStrategy(state.pool, elig),
                     RandomStrategy(state.pool, elig, seed=0)):
        assert future.created.post_id not in serve(strategy)
    assert np.all(state.pool.recent(T0, 48 * HOUR)[2] <= T0 + HOUR)


def test_in_process_thunder_columns_are_its_posts() -> None:
    """ThunderSource reads the in-process Thunder's columns: the same posts, in the same order,
    as its messages."""
    import numpy as np

    from thunder.light_posts import LightPosts

    state, _, ids = build_state()
    args = (VIEWER, [10, 20], [], 100, False)
    messages = asyncio.run(state.thunder.get_in_network_posts(*args))
    columns = asyncio.run(state.thunder.get_in_network_columns(*args))
    assert messages and columns.post_ids == [p.post_id for p in messages]
    expected = LightPosts.from_messages(messages)
    for name, column in expected.columns.items():
        np.testing.assert_array_equal(columns.columns[name], column)
    np.testing.assert_array_equal(columns.flags, expected.flags)
    assert set(columns.post_ids) <= set(ids.values())
