"""The vectorised PostEvent decoder must agree with protobuf + validate_post_event on every
message: valid events of every shape, and malformed ones of every kind."""

from __future__ import annotations

import numpy as np
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from protos import events_pb2
from thunder.post_batch import post_fields
from thunder.post_event_decoder import decode_post_events, validate_post_event
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET

INT64 = [0, 1, 127, 128, 2**21, 2**35 - 1, 2**56 - 1, 2**56, 2**62 + 5, 2**63 - 1, -1, -(2**63), 1_780_000_000]


def reference(values: list[bytes]) -> tuple[list, list, list]:
    """(creates as (index, fields), deletes as (index, post_id, deleted_at), malformed) the
    per-message way."""
    creates, deletes, malformed = [], [], []
    for i, value in enumerate(values):
        try:
            event = events_pb2.PostEvent.FromString(value)
        except DecodeError as exc:
            malformed.append((i, f"decode: {exc}"))
            continue
        reason = validate_post_event(event)
        if reason is not None:
            malformed.append((i, reason))
        elif event.WhichOneof("event") == "created":
            creates.append((i, post_fields(event.created)))
        else:
            deletes.append((i, event.deleted.post_id, event.deleted.deleted_at))
    return creates, deletes, malformed


def decoded(values: list[bytes]) -> tuple[list, list, list]:
    out = decode_post_events(values)
    cols, flags = out.posts.columns, out.posts.flags
    creates = [(int(i), tuple(int(cols[name][k]) for name in INT_COLUMNS)
                + (bool(flags[k] & IS_RETWEET), bool(flags[k] & IS_REPLY), bool(flags[k] & HAS_VIDEO)))
               for k, i in enumerate(out.created.tolist())]
    deletes = [(int(i), int(p), int(t)) for i, p, t in zip(out.deleted, out.deleted_post_ids, out.deleted_at, strict=True)]
    return creates, deletes, out.malformed


def random_event(rng: np.random.Generator) -> events_pb2.PostEvent:
    def pick() -> int:
        return int(rng.choice(INT64)) if rng.random() < 0.5 else int(rng.integers(-(2**40), 2**62))

    kind = rng.random()
    event_id = rng.choice(["", "e1", "événement", "x" * 200])
    if kind < 0.7:
        created = events_pb2.PostCreated(
            post_id=pick(), author_id=pick(), created_at=pick(), in_reply_to_post_id=pick() * (rng.random() < 0.3),
            in_reply_to_user_id=pick() * (rng.random() < 0.3), is_retweet=bool(rng.random() < 0.2),
            is_reply=bool(rng.random() < 0.3), source_post_id=pick() * (rng.random() < 0.2),
            source_user_id=pick() * (rng.random() < 0.2), has_video=bool(rng.random() < 0.1),
            conversation_id=pick(), quoted_post_id=pick() * (rng.random() < 0.1), text=rng.choice(["", "hi", "日本語", "t" * 300]),
            video_duration_ms=pick() * (rng.random() < 0.1), has_media=bool(rng.random() < 0.2),
            language_code=rng.choice(["", "en", "ja"]), labels=list(rng.choice(["nsfw", "spam", "é"], int(rng.integers(0, 3)))),
            topic_id=pick() * (rng.random() < 0.3))
        return events_pb2.PostEvent(event_id=event_id, created=created)
    if kind < 0.9:
        return events_pb2.PostEvent(event_id=event_id, deleted=events_pb2.PostDeleted(
            post_id=pick(), deleted_at=pick(), author_id=pick()))
    return events_pb2.PostEvent(event_id=event_id)


def test_valid_events_of_every_shape() -> None:
    rng = np.random.default_rng(4)
    values = [random_event(rng).SerializeToString() for _ in range(3_000)]
    assert decoded(values) == reference(values)


def test_malformed_messages_of_every_kind() -> None:
    rng = np.random.default_rng(5)
    good = [random_event(rng).SerializeToString() for _ in range(400)]
    created = events_pb2.PostEvent(created=events_pb2.PostCreated(post_id=5, author_id=6, created_at=7)).SerializeToString()
    deleted = events_pb2.PostEvent(deleted=events_pb2.PostDeleted(post_id=9)).SerializeToString()
    values = list(good)
    for v in good[:200]:
        values.append(v[: int(rng.integers(0, len(v) + 1))])  # truncated
        flipped = bytearray(v)
        if flipped:
            flipped[int(rng.integers(0, len(flipped)))] ^= 1 << int(rng.integers(0, 8))
        values.append(bytes(flipped))
        values.append(v + bytes(rng.integers(0, 256, int(rng.integers(1, 6))).astype(np.uint8)))  # trailing garbage
        values.append(bytes(rng.integers(0, 256, int(rng.integers(0, 60))).astype(np.uint8)))  # random bytes
    values += [
        b"", created + created, created + deleted, deleted + created,  # oneof set twice
        created.replace(b"\x08\x05", b"\x08\x85\x00"),  # non-minimal varint: still valid
        b"\x0b\x0c" + created, b"\x0b" + created,  # a group, an unterminated group
        b"\x00\x01", b"\x10\x05", b"\x12\x02\x08",  # field 0, wrong wire type, truncated submessage
        b"\xf8\xff\xff\xff\x07\x01" + created, b"\xf8\xff\xff\xff\xff\xff\x01",  # long tags
        b"\x12\x0c\x08" + b"\xff" * 10 + b"\x01", b"\x12\x0b\x08" + b"\xff" * 9 + b"\x7f",  # 11- and 10-byte varints
        events_pb2.PostEvent(event_id="ok", created=events_pb2.PostCreated(post_id=1, author_id=1, created_at=1, text="ab"))
        .SerializeToString().replace(b"ab", b"\xff\xfe"),  # bad UTF-8 in a string
        b"\x0a\x02\xc3\xa9" + created, b"\x0a\x01\xc3" + created,  # good and bad UTF-8 in event_id
        b"\x12\x00", b"\x1a\x00", b"\x1a\x02\x08\x00",  # empty created / deleted
        b"\x19" + bytes(8) + created, b"\x1d" + bytes(4) + created, b"\x1d\x00",  # fixed64 / fixed32 unknown fields
        b"\x12\x05\x09" + bytes(4),  # fixed64 running past its submessage
        b"\x12\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",  # a huge submessage length
    ]
    assert decoded(values) == reference(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=30))
def test_random_bytes_decode_like_protobuf(values: list[bytes]) -> None:
    assert decoded(values) == reference(values)
