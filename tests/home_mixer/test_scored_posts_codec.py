"""The column-wise scored-posts cache form decodes to exactly what the row-wise form gave."""

from __future__ import annotations

import base64
import json
import math

import pytest

from home_mixer import scored_posts_codec
from home_mixer.feed_state_store import cache_form
from home_mixer.models import ActionTerm, PostCandidate, ScoreExplanation


def _posts() -> list[PostCandidate]:
    exp = ScoreExplanation(terms=(ActionTerm("favorite", 0.5, 0.5, 0.25),), positive_sum=0.25, weighted_score=0.251,
                           scored=True, other_multipliers={"dpp": 0.5}, note="n", predicted_dwell_s=None)
    return [
        PostCandidate(1, 7, phoenix_scores={"favorite": 0.5, "reply": 1e-9}, weighted_score=0.251, score=0.2,
                      explanation=exp, ancestors=[1, 2], labels=["a"], text="héllo \"q\"", retrieval_score=None,
                      in_network=True, created_at_ms=2**62),
        PostCandidate(2, 8, phoenix_scores={"reply": 0.25, "dwell_time": 3.5}, weighted_score=float("inf"),
                      score=1, author_labels=["x", "y"]),  # an int in a float field stays an int
        PostCandidate(3, 9, topic_id=2**70, is_mutual_follow=True),  # unscored; an int beyond int64; a bool
        PostCandidate(4, 9, phoenix_scores={}, retrieval_score=0.125, score=-0.0),
    ]


def _doc(payload: bytes) -> dict:
    return scored_posts_codec.header(payload)[0]


def _repacked(payload: bytes, doc: dict) -> bytes:
    """``payload`` with its JSON header replaced by ``doc`` (same binary body)."""
    body = scored_posts_codec.header(payload)[1]
    head = json.dumps(doc).encode()
    return scored_posts_codec.MAGIC + len(head).to_bytes(4, "little") + head + bytes(body)


def _as_version_3(payload: bytes) -> bytes:
    """The same posts as version 3 wrote them: one JSON document, packed columns as base64."""
    doc, body = scored_posts_codec.header(payload)
    itemsize = {"f64": 8, "i64": 8}

    def inline(column: dict) -> None:
        for tag, size in itemsize.items():
            if tag in column:
                offset, count = column[tag]
                column[tag] = base64.b64encode(bytes(body[offset : offset + count * size])).decode()

    for part in (doc["fields"], doc["explanation"]):
        for column in part.values():
            inline(column)
    inline(doc["phoenix_scores"])
    doc["v"] = 3
    return json.dumps(doc).encode()


def test_roundtrip_matches_the_row_wise_form() -> None:
    posts = _posts()
    got = scored_posts_codec.decode(scored_posts_codec.encode(posts))
    assert got == [PostCandidate.from_dict(json.loads(json.dumps(cache_form(p)))) for p in posts]
    assert got[0].explanation.terms == () and got[0].explanation.other_multipliers == {"dpp": 0.5}
    assert type(got[1].score) is int and got[3].phoenix_scores == {} and got[2].phoenix_scores is None
    assert math.copysign(1.0, got[3].score) == -1.0
    got[0].ancestors.append(3)  # containers are the post's own
    assert got[1].ancestors == [] and posts[0].ancestors == [1, 2]


def test_nan_and_empty_and_old_row_wise_payloads() -> None:
    nan = PostCandidate(5, 1, phoenix_scores={"favorite": float("nan")}, weighted_score=float("nan"))
    [back] = scored_posts_codec.decode(scored_posts_codec.encode([nan]))
    assert math.isnan(back.weighted_score) and math.isnan(back.phoenix_scores["favorite"])
    assert scored_posts_codec.decode(scored_posts_codec.encode([])) == []
    old = json.dumps([cache_form(p) for p in _posts()]).encode()
    assert scored_posts_codec.decode(old) == scored_posts_codec.decode(scored_posts_codec.encode(_posts()))


def test_float_columns_are_packed_and_the_payload_is_smaller() -> None:
    posts = [PostCandidate(i, 1, phoenix_scores={f"a{j}": 1 / (i + j + 3) for j in range(20)}, score=i / 7)
             for i in range(200)]
    payload = scored_posts_codec.encode(posts)
    doc = _doc(payload)
    assert "f64" in doc["fields"]["score"] and "i64" in doc["fields"]["tweet_id"] and "const" in doc["fields"]["text"]
    assert len(payload) < len(json.dumps([cache_form(p) for p in posts])) / 2
    assert scored_posts_codec.decode(payload) == posts


@pytest.mark.parametrize("payload", [b"not json", b'{"v": 99}', b'"a string"', b'{"v": 4, "n": 0}',
                                     scored_posts_codec.MAGIC + b"\x01", scored_posts_codec.MAGIC + b"\xff\0\0\0{}",
                                     scored_posts_codec.MAGIC + b"\x09\0\0\0{\"v\": 3}"])
def test_unknown_payloads_are_a_clear_error(payload: bytes) -> None:
    with pytest.raises(scored_posts_codec.CacheFormatError):
        scored_posts_codec.decode(payload)


def test_truncated_columns_are_a_clear_error() -> None:
    payload = scored_posts_codec.encode(_posts())
    doc = _doc(payload)
    doc["fields"]["text"]["json"].pop()
    with pytest.raises(scored_posts_codec.CacheFormatError, match="column of 3 values for 4 posts"):
        scored_posts_codec.decode(_repacked(payload, doc))
    del doc["phoenix_scores"]
    with pytest.raises(scored_posts_codec.CacheFormatError, match="malformed"):
        scored_posts_codec.decode(_repacked(payload, doc))
    with pytest.raises(scored_posts_codec.CacheFormatError, match="outside the"):
        scored_posts_codec.decode(payload[:-8])  # the body cut short: the last packed column runs past it


def test_version_3_payloads_are_still_read() -> None:
    payload = scored_posts_codec.encode(_posts())
    old = _as_version_3(payload)
    assert old[:1] == b"{" and isinstance(json.loads(old)["fields"]["tweet_id"]["i64"], str)  # base64 text
    assert scored_posts_codec.decode(old) == scored_posts_codec.decode(payload)


def test_constant_columns_are_written_once_and_version_2_is_still_read() -> None:
    posts = [PostCandidate(i, 7, labels=["nsfw"], text="same", in_network=True, score=0.0 if i else -0.0,
                           phoenix_scores={"favorite": 0.5}, explanation=ScoreExplanation(scored=True))
             for i in range(3)]
    payload = scored_posts_codec.encode(posts)
    doc = _doc(payload)
    assert doc["fields"]["labels"] == {"const": ["nsfw"]} and doc["fields"]["text"] == {"const": "same"}
    assert doc["explanation"]["note"] == {"const": ""} and "f64" in doc["fields"]["score"]  # floats keep -0.0
    got = scored_posts_codec.decode(payload)
    assert got == posts and math.copysign(1.0, got[0].score) == -1.0
    got[0].labels.append("x")  # containers are the post's own
    assert got[1].labels == ["nsfw"]
    doc = json.loads(_as_version_3(payload))
    for part in (doc["fields"], doc["explanation"]):  # the same posts as version 2 wrote them
        for name, column in part.items():
            if "const" in column:
                part[name] = {"json": [column["const"]] * 3}
    doc["v"] = 2
    assert scored_posts_codec.decode(json.dumps(doc).encode()) == posts


def test_feeds_that_were_not_explained_store_no_explanation_columns() -> None:
    posts = [PostCandidate(i, 7, phoenix_scores={"favorite": 0.5}, weighted_score=0.3, score=0.2) for i in range(3)]
    payload = scored_posts_codec.encode(posts)
    assert _doc(payload)["explanation"] == {}
    got = scored_posts_codec.decode(payload)
    assert got == posts and all(c.explanation == ScoreExplanation() for c in got)
