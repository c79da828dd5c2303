"""Readable action names and their ``protos.recsys_pb2.ActionName`` numbers.

The synthetic world, the oracle, the user-state counters and evaluation all talk about actions by
these lower-case names; the numbers are the ones X's Phoenix heads read (reference: the
PhoenixScores mapping), so an event written with ``ACTION_NUMBERS[name]`` lands in the right head.
"""

from __future__ import annotations

from protos import recsys_pb2 as R

# The actions the oracle gives a probability for, in a fixed order (the oracle matrix columns).
ORACLE_ACTIONS: tuple[str, ...] = (
    "favorite",
    "reply",
    "repost",
    "quote",
    "click",
    "profile_click",
    "photo_expand",
    "video_view",
    "share",
    "share_via_dm",
    "copy_link",
    "dwell",
    "follow_author",
    "not_interested",
    "mute",
    "block",
    "report",
)

ACTION_NUMBERS: dict[str, int] = {
    "impression": R.CLIENT_TWEET_IMPRESSION,
    "favorite": R.SERVER_TWEET_FAV,
    "reply": R.SERVER_TWEET_REPLY,
    "repost": R.SERVER_TWEET_RETWEET,
    "quote": R.SERVER_TWEET_QUOTE,
    "click": R.CLIENT_TWEET_CLICK,
    "profile_click": R.CLIENT_TWEET_CLICK_PROFILE,
    "photo_expand": R.CLIENT_TWEET_PHOTO_EXPAND,
    "video_view": R.CLIENT_TWEET_VIDEO_QUALITY_VIEW,
    "share": R.CLIENT_TWEET_SHARE,
    "share_via_dm": R.CLIENT_TWEET_CLICK_SEND_VIA_DIRECT_MESSAGE,
    "copy_link": R.CLIENT_TWEET_SHARE_VIA_COPY_LINK,
    "dwell": R.CLIENT_TWEET_RECAP_DWELLED,
    "not_dwelled": R.CLIENT_TWEET_RECAP_NOT_DWELLED,
    "follow_author": R.CLIENT_TWEET_FOLLOW_AUTHOR,
    "not_interested": R.CLIENT_TWEET_NOT_INTERESTED_IN,
    "mute": R.CLIENT_TWEET_MUTE_AUTHOR,
    "block": R.CLIENT_TWEET_BLOCK_AUTHOR,
    "report": R.CLIENT_TWEET_REPORT,
}
"""Every action the world emits (the oracle's actions plus impression and not_dwelled)."""

ACTION_BY_NUMBER: dict[int, str] = {number: name for name, number in ACTION_NUMBERS.items()}

NEGATIVE_ACTIONS: frozenset[str] = frozenset({"not_interested", "mute", "block", "report"})


def action_name(number: int) -> str:
    """Readable name of an ActionName number; actions outside this table keep their enum name in
    lower case (e.g. ``server_tweet_unfav``) so counters never silently merge distinct actions."""
    name = ACTION_BY_NUMBER.get(number)
    if name is not None:
        return name
    try:
        return R.ActionName.Name(number).lower()
    except ValueError:
        return f"action_{number}"
