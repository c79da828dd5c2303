"""The on-disk event log: round trip, global time order, and clear errors on damaged files."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.log import EventLog, EventLogError, EventLogWriter
from infra.snowflake import make_snowflake
from protos import events_pb2, recsys_pb2

T0 = 1_700_000_000_000


def _post(ts: int, seq: int = 0) -> events_pb2.PostEvent:
    pid = make_snowflake(ts, seq)
    return events_pb2.PostEvent(event_id=f"p{pid}", created=events_pb2.PostCreated(post_id=pid, author_id=7, created_at=ts // 1000, text="hello"))


def _eng(ts: int, pid: int) -> events_pb2.EngagementEvent:
    return events_pb2.EngagementEvent(event_id=f"e{ts}", user_id=1, post_id=pid, author_id=7,
                                      action=recsys_pb2.SERVER_TWEET_FAV, timestamp_ms=ts)


def _write_sample(d: Path) -> None:
    with EventLogWriter(d) as w:
        p1, p2 = _post(T0), _post(T0 + 5000)
        w.write_post(p1)
        w.write_post(p2)
        w.write_engagement(_eng(T0, p1.created.post_id))  # same time as its post: post first
        w.write_engagement(_eng(T0 + 6000, p2.created.post_id))
        w.write_social(events_pb2.SocialGraphEvent(event_id="g1", user_id=1, action=events_pb2.FOLLOW, target_user_id=7, timestamp_ms=T0 + 1000))
        w.write_served(events_pb2.ServedFeed(event_id="r1", request_id="r1", viewer_id=1, served_at_ms=T0 + 5500))


def test_round_trip_and_merge_order(tmp_path: Path) -> None:
    _write_sample(tmp_path)
    log = EventLog(tmp_path)
    assert [p.created.created_at for p in log.posts()] == [T0 // 1000, (T0 + 5000) // 1000]
    assert len(list(log.engagements())) == 2
    assert [g.event_id for g in log.social_graph()] == ["g1"]
    assert [s.request_id for s in log.served()] == ["r1"]
    topics = [t for t, _ in log.merged()]
    assert topics == ["posts", "engagements", "social_graph", "posts", "served", "engagements"]


def test_empty_topics_have_files(tmp_path: Path) -> None:
    with EventLogWriter(tmp_path) as w:
        w.write_post(_post(T0))
    assert (tmp_path / "served.pb.zst").exists()
    assert list(EventLog(tmp_path).served()) == []


def test_wrong_type_is_rejected(tmp_path: Path) -> None:
    with EventLogWriter(tmp_path) as w, pytest.raises(TypeError):
        w.write("posts", _eng(T0, 1))


def test_truncated_file_is_reported(tmp_path: Path) -> None:
    with EventLogWriter(tmp_path) as w:
        for i in range(2000):
            w.write_engagement(_eng(T0 + i, i + 1))
    path = tmp_path / "engagements.pb.zst"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(EventLogError, match="engagements"):
        list(EventLog(tmp_path).engagements())


def test_garbage_file_is_reported(tmp_path: Path) -> None:
    _write_sample(tmp_path)
    (tmp_path / "posts.pb.zst").write_bytes(b"not zstd at all" * 10)
    with pytest.raises(EventLogError, match="posts"):
        list(EventLog(tmp_path).posts())


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        EventLog(tmp_path / "nope")
