"""The ranker's action names that home-mixer consumes, and their ``ActionName`` head numbers.

Names follow X's ``PhoenixScores`` fields (reference §4.3.6) and are the keys the ranker client
returns and the weighted scorer's weights use. ``phoenix/actions.py`` owns the model-side
vocabulary; this table is the home-mixer view of it (same names, same numbers).
"""

from __future__ import annotations

from protos import recsys_pb2 as rp

A = rp.ActionName

DISCRETE_ACTIONS: dict[str, int] = {
    "favorite": A.SERVER_TWEET_FAV,
    "reply": A.SERVER_TWEET_REPLY,
    "repost": A.SERVER_TWEET_RETWEET,
    "quote": A.SERVER_TWEET_QUOTE,
    "photo_expand": A.CLIENT_TWEET_PHOTO_EXPAND,
    "click": A.CLIENT_TWEET_CLICK,
    "profile_click": A.CLIENT_TWEET_CLICK_PROFILE,
    "vqv": A.CLIENT_TWEET_VIDEO_QUALITY_VIEW,
    "share": A.CLIENT_TWEET_SHARE,
    "share_via_dm": A.CLIENT_TWEET_CLICK_SEND_VIA_DIRECT_MESSAGE,
    "share_via_copy_link": A.CLIENT_TWEET_SHARE_VIA_COPY_LINK,
    "dwell": A.CLIENT_TWEET_RECAP_DWELLED,
    "quoted_click": A.CLIENT_QUOTED_TWEET_CLICK,
    "follow_author": A.CLIENT_TWEET_FOLLOW_AUTHOR,
    "not_interested": A.CLIENT_TWEET_NOT_INTERESTED_IN,
    "block_author": A.CLIENT_TWEET_BLOCK_AUTHOR,
    "mute_author": A.CLIENT_TWEET_MUTE_AUTHOR,
    "report": A.CLIENT_TWEET_REPORT,
    "video_open": A.CLIENT_TWEET_VIDEO_OPEN,
    "open_link": A.CLIENT_TWEET_OPEN_LINK,
    "quoted_vqv": A.CLIENT_QUOTED_TWEET_VIDEO_QUALITY_VIEW,
    "not_dwelled": A.CLIENT_TWEET_RECAP_NOT_DWELLED,
    "post_unexplored": A.SERVER_TWEET_POST_UNEXPLORED,
}
"""Discrete heads: probability of each action, by name."""

CONTINUOUS_ACTIONS: dict[str, int] = {
    "dwell_time": rp.ContinuousActionName.DWELL_TIME,
    "click_dwell_time": rp.ContinuousActionName.CLICK_DWELL_TIME,
    "active_secs_5m_residual_norm": rp.ContinuousActionName.ACTIVE_SECS_5M_RESIDUAL_NORM,
}
"""Continuous heads (dwell time in seconds, ...), by name."""

ALL_ACTIONS: frozenset[str] = frozenset(DISCRETE_ACTIONS) | frozenset(CONTINUOUS_ACTIONS)
