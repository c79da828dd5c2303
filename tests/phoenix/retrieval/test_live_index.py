import threading

import numpy as np
import pytest

from phoenix.retrieval.index import IndexConfig
from phoenix.retrieval.live_index import RETENTION_S, LiveIndex
from phoenix.retrieval.model import pad_histories
from protos import events_pb2
from tests.phoenix.retrieval.helpers import tiny_model

NOW = 1_800_000_000.0


def created(pid, author=3, at=NOW - 60, retweet=False):
    return events_pb2.PostEvent(event_id=f"c{pid}", created=events_pb2.PostCreated(
        post_id=pid, author_id=author, created_at=int(at), is_retweet=retweet))


def deleted(pid):
    return events_pb2.PostEvent(event_id=f"d{pid}", deleted=events_pb2.PostDeleted(post_id=pid))


def empty_user():
    return pad_histories([1], [np.array([], np.int64)], [np.array([], np.int64)],
                         [np.zeros((0, 64), np.float32)], 12)


@pytest.fixture
def clock():
    return {"now": NOW}


@pytest.fixture
def live(clock):
    return LiveIndex(tiny_model(), "v1", IndexConfig(dim=16), clock=lambda: clock["now"])


def test_new_posts_are_retrievable_at_once_and_deletes_remove_them(live):
    live.apply([created(p) for p in range(1, 51)])
    assert len(live) == 50
    res, version = live.retrieve(empty_user(), 100)
    assert version == "v1" and sorted(p for p, _, _ in res.hits(0)) == list(range(1, 51))
    live.apply([deleted(7)])
    res, _ = live.retrieve(empty_user(), 100, exclude=[8])
    got = {p for p, _, _ in res.hits(0)}
    assert 7 not in got and 8 not in got and len(got) == 48


def test_replays_are_idempotent_and_deleted_posts_stay_deleted(live):
    live.apply([created(1), created(2), deleted(2)])
    live.apply([created(1), created(2), deleted(2)])  # the same events again
    assert len(live) == 1 and 1 in live and 2 not in live
    assert live.created == 1 and live.deleted == 0


def test_reposts_and_already_expired_posts_are_not_indexed(live):
    live.apply([created(1, retweet=True), created(2, at=NOW - RETENTION_S - 5), created(3)])
    assert 3 in live and 1 not in live and 2 not in live


def test_expiry_after_retention(live, clock):
    live.apply([created(1, at=NOW - 100), created(2, at=NOW - 10)])
    clock["now"] = NOW - 100 + RETENTION_S + 1
    assert live.expire() == 1
    assert 1 not in live and 2 in live


def test_reload_rebuilds_and_swaps_atomically(live):
    live.apply([created(p) for p in range(1, 201)])
    new_model = tiny_model(seed=9)
    results = []

    def search_during_reload():
        for _ in range(20):
            res, version = live.retrieve(empty_user(), 5)
            results.append((version, res.hits(0)))

    t = threading.Thread(target=search_during_reload)
    t.start()
    live.reload(new_model, "v2")
    t.join()
    assert live.model_version == "v2" and len(live) == 200
    assert all(len(h) == 5 for _, h in results)
    res, version = live.retrieve(empty_user(), 5)
    import torch

    with torch.no_grad():
        u = new_model.user_vectors(empty_user())
        c = new_model.candidate_vectors(np.arange(1, 201), np.full(200, 3))
    expected = (np.argsort(-(u @ c.T).numpy()[0])[:5] + 1).tolist()
    assert [p for p, _, _ in res.hits(0)] == expected


def test_reload_refuses_a_model_of_another_width(live):
    with pytest.raises(ValueError, match="dim"):
        live.reload(tiny_model(dim=32), "v3")
    assert live.model_version == "v1"


def test_the_posts_consumer_waits_idle_wait_ms_when_no_post_comes(live):
    consumer = live.consumer("posts", bootstrap="127.0.0.1:1", idle_wait_ms=250)  # never started
    assert consumer.poll_timeout_ms == 250
    assert consumer.consumer_overrides == {"fetch_max_wait_ms": 250}
    with pytest.raises(ValueError, match="idle_wait_ms must be >= 1"):
        live.consumer("posts", idle_wait_ms=0)
