"""The committed generated modules must equal what `make protos` produces now."""

from pathlib import Path

from protos.generate import PROTO_DIR, generate, proto_sources


def test_generated_modules_are_fresh(tmp_path: Path) -> None:
    generate(tmp_path)
    out = tmp_path / "protos"
    generated = sorted(p.name for p in out.iterdir())
    assert generated, "protoc produced nothing"
    assert len(generated) == 3 * len(proto_sources())
    stale = [name for name in generated if (out / name).read_bytes() != (PROTO_DIR / name).read_bytes()]
    assert not stale, f"stale generated protos (run `make protos`): {stale}"


def test_action_enum_matches_x_numbers() -> None:
    from protos import recsys_pb2 as r

    assert r.SERVER_TWEET_FAV == 1 and r.SERVER_TWEET_REPLY == 4 and r.SERVER_TWEET_RETWEET == 6
    assert r.CLIENT_TWEET_CLICK == 29 and r.CLIENT_TWEET_NOT_INTERESTED_IN == 17
    assert r.CLIENT_TWEET_VIDEO_OPEN == 47 and r.CLIENT_TWEET_OPEN_LINK == 39
    assert r.CLIENT_TWEET_RECAP_NOT_DWELLED == 12 and r.SERVER_PROFILE_BLOCK == 63
