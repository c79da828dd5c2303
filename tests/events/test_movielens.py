"""The MovieLens-100K adapter reads the real data and maps it as its docstring states."""

from __future__ import annotations

import itertools
import time
from collections import Counter

import numpy as np
import pytest

from events.movielens import (
    GENRE_AUTHOR_BASE,
    author_for_item,
    item_id_for_post,
    load_movielens_100k,
    movielens_events,
    post_id_for_item,
)
from events.world.actions import action_name


@pytest.fixture(scope="module")
def data():
    return load_movielens_100k()


def test_real_dataset_shape(data) -> None:
    assert len(data) == 100_000
    assert data.n_users == 943 and data.n_items == 1682
    assert np.all(np.diff(data.timestamp) >= 0)
    assert set(np.unique(data.rating).tolist()) == {1, 2, 3, 4, 5}
    assert data.items[1].title == "Toy Story" and data.items[1].year == 1995
    assert "Animation" in data.items[1].genres
    rows = data.interactions
    assert rows[0]["timestamp"] == data.timestamp.min()


def test_cached_and_fast(data) -> None:
    t = time.perf_counter()
    assert load_movielens_100k() is data
    assert time.perf_counter() - t < 0.01


def test_post_id_map_is_reversible(data) -> None:
    first = data.first_rating_time()
    for item in (1, 50, 1682):
        pid = post_id_for_item(item, first[item])
        assert item_id_for_post(pid) == item


def test_mapping(data) -> None:
    events = list(itertools.islice(movielens_events(data), 20_000))
    posts = {m.created.post_id: m.created for t, m in events if t == "posts"}
    ratings = {}
    n_rows = 0
    actions: Counter[str] = Counter()
    for topic, m in events:
        if topic != "engagements":
            continue
        assert m.post_id in posts, "a post is created before anyone sees it"
        assert posts[m.post_id].author_id >= GENRE_AUTHOR_BASE
        actions[action_name(m.action)] += 1
        if action_name(m.action) == "impression":
            ratings[(m.user_id, m.post_id)] = None
            n_rows += 1
    assert actions["impression"] == n_rows
    # Check the first rows against the documented rules.
    first = data.first_rating_time()
    want: Counter[str] = Counter()
    for r in data.rating[:n_rows].tolist():
        want["impression"] += 1
        want["favorite"] += r >= 4
        want["repost"] += r == 5
        want["not_interested"] += r <= 2
    assert actions == +want
    item = int(data.item_id[0])
    post = posts[post_id_for_item(item, first[item])]
    assert post.text == data.items[item].title
    assert post.author_id == author_for_item(data.items[item])
