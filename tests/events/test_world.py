"""The synthetic world: deterministic, time ordered, structurally sound, and its actions really
follow the oracle it exposes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from events.log import EventLog, event_time_ms
from events.world import (
    ACTION_NUMBERS,
    ORACLE_ACTIONS,
    ImpressionContext,
    World,
    WorldConfig,
    action_name,
    write_to_log,
)
from infra.snowflake import snowflake_timestamp_ms
from protos import events_pb2, recsys_pb2


@pytest.fixture(scope="module")
def data():
    return World.generate(WorldConfig.preset("tiny", seed=3))


@pytest.fixture(scope="module")
def events(data):
    return list(data.events())


def test_deterministic_by_seed(data, events) -> None:
    again = list(World.generate(WorldConfig.preset("tiny", seed=3)).events())
    assert [m.SerializeToString() for _, m in again[:3000]] == [m.SerializeToString() for _, m in events[:3000]]
    assert len(again) == len(events)
    other = World.generate(WorldConfig.preset("tiny", seed=4))
    assert not np.array_equal(other.world.posts.post_id[:50], data.world.posts.post_id[:50])


def test_sizes_and_global_time_order(events) -> None:
    counts = Counter(t for t, _ in events)
    assert 1000 < counts["posts"] < 10000
    assert counts["engagements"] > 5 * counts["posts"]
    times = [event_time_ms(t, m) for t, m in events]
    assert times == sorted(times)


def test_posts_are_snowflakes_with_threads_reposts_quotes_and_video(data, events) -> None:
    posts = [m.created for t, m in events if t == "posts"]
    ids = {p.post_id for p in posts}
    assert len(ids) == len(posts)
    for p in posts:
        assert abs(snowflake_timestamp_ms(p.post_id) // 1000 - p.created_at) <= 1
        if p.is_reply:
            assert p.in_reply_to_post_id in ids and p.in_reply_to_post_id < p.post_id
        if p.is_retweet:
            assert p.source_post_id in ids and p.text  # a repost carries its source's text
        if p.has_video:
            assert p.video_duration_ms >= 5000
    assert sum(p.is_reply for p in posts) > 50
    assert sum(p.is_retweet for p in posts) > 50
    assert sum(p.quoted_post_id != 0 for p in posts) > 20
    assert sum(p.has_video for p in posts) > 20
    assert any(p.conversation_id != p.post_id for p in posts if p.is_reply)
    # Text comes from the post's topic vocabulary.
    vocab = data.world.vocabulary
    for p in posts[:200]:
        topic_words = set(vocab.topic_words(p.topic_id - 1))
        assert set(p.text.split()) <= topic_words


def test_sessions_mix_in_and_out_of_network_and_every_action_appears(data, events) -> None:
    following: dict[int, set[int]] = {}
    in_net = out_net = 0
    actions: Counter[str] = Counter()
    for topic, m in events:
        if topic == "social_graph" and m.action == events_pb2.FOLLOW:
            following.setdefault(m.user_id, set()).add(m.target_user_id)
        elif topic == "social_graph" and m.action == events_pb2.UNFOLLOW:
            following.get(m.user_id, set()).discard(m.target_user_id)
        elif topic == "engagements":
            actions[action_name(m.action)] += 1
            if m.action == recsys_pb2.CLIENT_TWEET_IMPRESSION:
                assert m.product_surface in (recsys_pb2.HOME_TIMELINE_RANKING, recsys_pb2.HOME_TIMELINE_LATEST)
                assert m.position >= 0 and m.request_id
                if m.author_id in following.get(m.user_id, set()):
                    in_net += 1
                else:
                    out_net += 1
    assert in_net > 1000 and out_net > 1000
    common = {"impression", "dwell", "not_dwelled", "favorite", "reply", "repost", "quote", "click",
              "profile_click", "photo_expand", "video_view", "share", "share_via_dm", "copy_link",
              "follow_author", "not_interested"}
    assert common <= set(actions), common - set(actions)
    assert all(e.dwell_time_ms > 0 for t, e in events if t == "engagements" and e.action == ACTION_NUMBERS["dwell"])


def test_rare_negative_actions_and_graph_events_appear_in_a_bigger_world() -> None:
    cfg = WorldConfig.preset("tiny", seed=1, n_users=600, days=4.0)
    events = list(World.generate(cfg).events())
    actions = Counter(action_name(m.action) for t, m in events if t == "engagements")
    assert {"mute", "block", "report"} <= set(actions), actions
    graph = Counter(events_pb2.SocialGraphAction.Name(m.action) for t, m in events if t == "social_graph")
    assert {"FOLLOW", "UNFOLLOW", "MUTE", "BLOCK", "MUTE_KEYWORD"} <= set(graph), graph


def test_muted_keywords_hide_posts_from_later_sessions(data, events) -> None:
    muted: dict[int, set[str]] = {}
    texts = {m.created.post_id: set(m.created.text.split()) for t, m in events if t == "posts"}
    checked = 0
    for topic, m in events:
        if topic == "social_graph" and m.action == events_pb2.MUTE_KEYWORD:
            muted.setdefault(m.user_id, set()).add(m.keyword)
        elif topic == "social_graph" and m.action == events_pb2.UNMUTE_KEYWORD:
            muted[m.user_id].discard(m.keyword)
        elif topic == "engagements" and m.action == recsys_pb2.CLIENT_TWEET_IMPRESSION and muted.get(m.user_id):
            assert not (texts[m.post_id] & muted[m.user_id])
            checked += 1
    assert checked > 0


def test_actions_follow_the_oracle(data, events) -> None:
    """Observed favourite/click rates match the oracle's mean over the same impressions."""
    world = data.world
    following: dict[int, set[int]] = {}
    shown: dict[tuple[str, int], tuple[float, ...]] = {}
    observed: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for topic, m in events:
        if topic == "social_graph" and m.action == events_pb2.FOLLOW:
            following.setdefault(m.user_id, set()).add(m.target_user_id)
        elif topic == "social_graph" and m.action in (events_pb2.UNFOLLOW,):
            following.get(m.user_id, set()).discard(m.target_user_id)
        elif topic == "engagements" and m.action == recsys_pb2.CLIENT_TWEET_IMPRESSION:
            ctx = ImpressionContext(position=m.position, now_ms=m.timestamp_ms,
                                    follows_author=m.author_id in following.get(m.user_id, set()))
            probs = world.oracle_probabilities(m.user_id, m.post_id, ctx)
            for name in ("favorite", "click", "dwell"):
                expected[name] += probs[name]
            shown[(m.request_id, m.post_id)] = ()
        elif topic == "engagements" and action_name(m.action) in ("favorite", "click", "dwell"):
            observed[action_name(m.action)] += 1
            if len(shown) > 5000:
                break
    for name in ("favorite", "click", "dwell"):
        assert observed[name] == pytest.approx(expected[name], rel=0.1), (name, observed[name], expected[name])


def test_oracle_interface(data) -> None:
    world = data.world
    post_id = int(world.posts.post_id[10])
    probs = world.oracle_probabilities(1, post_id)
    assert set(probs) == set(ORACLE_ACTIONS)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    top = world.oracle_probabilities(1, post_id, ImpressionContext(position=0))
    low = world.oracle_probabilities(1, post_id, ImpressionContext(position=30))
    assert top["favorite"] > low["favorite"]
    with pytest.raises(KeyError):
        world.oracle_probabilities(10**6, post_id)
    with pytest.raises(KeyError):
        world.oracle_probabilities(1, 12345)


def test_knowable_oracle_averages_the_truth_over_post_noise_and_label(data) -> None:
    """The information-limited oracle equals the true oracle averaged (Monte Carlo) over the post
    quality noise and safety label redrawn from the priors the world draws them from."""
    from events.world.oracle import oracle_matrix
    from events.world.posts import ORIGINAL, QUALITY_NOISE_STD, SPAM, SPAM_QUALITY_PENALTY, label_prior

    world = data.world
    posts = world.posts
    row = int(np.flatnonzero(posts.kind == ORIGINAL)[5])
    created = int(posts.created_ms[row])
    ctx = ImpressionContext(position=3, now_ms=created + 5 * 3_600_000, follows_author=True)
    user = 2
    knowable = world.knowable_oracle_probabilities(user, int(posts.post_id[row]), ctx)

    rng = np.random.default_rng(0)
    n = 400_000
    label = rng.choice(3, n, p=label_prior(world.config))
    author_quality = world.population.quality[posts.author[row]]
    quality = author_quality + QUALITY_NOISE_STD * rng.standard_normal(n) - SPAM_QUALITY_PENALTY * (label == SPAM)
    ones = np.ones(n)
    sampled = oracle_matrix(
        affinity=ones * world.population.affinity[user - 1, posts.topic[row]], quality=quality, follows=ones,
        age_ms=ones * 5 * 3_600_000, position=ones * 3, is_reply=ones * 0, is_repost=ones * 0, label=label,
        has_video=ones * posts.has_video[row], has_media=ones * posts.has_media[row],
    ).mean(0)
    expected = {name: float(sampled[i]) for i, name in enumerate(ORACLE_ACTIONS)}
    for name in ("favorite", "repost", "click", "not_interested"):
        assert knowable[name] == pytest.approx(expected[name], rel=0.01, abs=1e-4), name
    # ... and differs from the truth for this very post, whose own noise the request cannot know.
    exact = world.oracle_probabilities(user, int(posts.post_id[row]), ctx)
    assert knowable["favorite"] != pytest.approx(exact["favorite"], rel=1e-3)


def test_knowable_oracle_with_known_label_and_no_noise_is_the_oracle() -> None:
    from events.world.oracle import expected_oracle_row, oracle_matrix

    row = dict(affinity=0.7, follows=True, age_ms=7_200_000, position=0, is_reply=False, is_repost=True,
               has_video=True, has_media=True)
    spam = expected_oracle_row(author_quality=0.3, noise_std=0.0, label_probs=np.array([0.0, 0.0, 1.0]), **row)
    truth = oracle_matrix(quality=np.array([0.3 - 2.0]), label=np.array([2]),
                          **{k: np.array([v]) for k, v in row.items()})[0]
    assert np.allclose(spam, truth, atol=1e-12)


def test_write_to_log_round_trip(tmp_path: Path, events) -> None:
    cfg = WorldConfig.preset("tiny", seed=3)
    counts = write_to_log(World.generate(cfg), tmp_path, progress=False)
    log = EventLog(tmp_path)
    assert counts["posts"] == sum(1 for _ in log.posts())
    merged = list(log.merged())
    assert len(merged) == len(events)
    assert [m.SerializeToString() for _, m in merged[-100:]] == [m.SerializeToString() for _, m in events[-100:]]


def test_preset_names_are_the_presets_the_config_knows() -> None:
    """The CLI help texts list ``PRESET_NAMES``: each builds, and an unknown name's error lists them."""
    from events.world.config import PRESET_NAMES

    for name in PRESET_NAMES:
        assert WorldConfig.preset(name).n_users >= 2
    with pytest.raises(ValueError, match="choose one of") as info:
        WorldConfig.preset("huge")
    assert str(info.value).endswith(str(sorted(PRESET_NAMES)))
