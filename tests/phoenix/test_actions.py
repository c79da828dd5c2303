from __future__ import annotations

import pytest

from phoenix import actions
from protos import recsys_pb2 as pb


def test_heads_cover_jan_list_plus_aug_additions() -> None:
    expected = {
        "favorite": 1, "reply": 4, "repost": 6, "quote": 5, "photo_expand": 14, "click": 29,
        "profile_click": 30, "vqv": 13, "share": 37, "share_via_dm": 33, "share_via_copy_link": 32,
        "dwell": 11, "quoted_click": 38, "follow_author": 21, "not_interested": 17, "block_author": 23,
        "mute_author": 25, "report": 16, "video_open": 47, "open_link": 39, "not_dwelled": 12,
    }  # fmt: skip
    assert actions.ACTION_NUMBER_BY_NAME == expected
    assert actions.CONTINUOUS_ACTIONS[0].action == pb.DWELL_TIME == 1


def test_head_index_lookup() -> None:
    assert actions.head_index("favorite") == actions.head_index(pb.SERVER_TWEET_FAV) == 0
    with pytest.raises(KeyError, match="not a ranker head"):
        actions.head_index("bookmark")
