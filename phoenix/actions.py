"""The ranker's heads: which user actions it predicts, by readable name and ``ActionName`` number.

The discrete heads are every action of X's [Jan] list plus ``video_open``, ``open_link`` and
``not_dwelled`` from [Aug] (reference §4.1, §4.3.6). The model computes only these heads (compact
index ``0..len(DISCRETE_ACTIONS)-1``); on the wire they are scattered into the 64-slot
``top_log_probs`` vector indexed by ``ActionName`` number, as X's serving does. Slots for actions
this model does not predict carry ``UNMODELLED_LOG_PROB`` (-30, i.e. probability ~1e-13) so a
caller that takes ``exp()`` reads "essentially never".

The readable names are the keys home-mixer's weights use.
"""

from __future__ import annotations

from dataclasses import dataclass

from protos import recsys_pb2 as pb

OUTPUT_SLOTS = 64  # X's output vocab: ActionName numbers 0..63
UNMODELLED_LOG_PROB = -30.0
CONTINUOUS_SLOTS = 8


@dataclass(frozen=True)
class ActionHead:
    name: str
    action: int  # protos.recsys_pb2.ActionName number


DISCRETE_ACTIONS: tuple[ActionHead, ...] = (
    ActionHead("favorite", pb.SERVER_TWEET_FAV),
    ActionHead("reply", pb.SERVER_TWEET_REPLY),
    ActionHead("repost", pb.SERVER_TWEET_RETWEET),
    ActionHead("photo_expand", pb.CLIENT_TWEET_PHOTO_EXPAND),
    ActionHead("click", pb.CLIENT_TWEET_CLICK),
    ActionHead("profile_click", pb.CLIENT_TWEET_CLICK_PROFILE),
    ActionHead("vqv", pb.CLIENT_TWEET_VIDEO_QUALITY_VIEW),
    ActionHead("share", pb.CLIENT_TWEET_SHARE),
    ActionHead("share_via_dm", pb.CLIENT_TWEET_CLICK_SEND_VIA_DIRECT_MESSAGE),
    ActionHead("share_via_copy_link", pb.CLIENT_TWEET_SHARE_VIA_COPY_LINK),
    ActionHead("dwell", pb.CLIENT_TWEET_RECAP_DWELLED),
    ActionHead("quote", pb.SERVER_TWEET_QUOTE),
    ActionHead("quoted_click", pb.CLIENT_QUOTED_TWEET_CLICK),
    ActionHead("follow_author", pb.CLIENT_TWEET_FOLLOW_AUTHOR),
    ActionHead("not_interested", pb.CLIENT_TWEET_NOT_INTERESTED_IN),
    ActionHead("block_author", pb.CLIENT_TWEET_BLOCK_AUTHOR),
    ActionHead("mute_author", pb.CLIENT_TWEET_MUTE_AUTHOR),
    ActionHead("report", pb.CLIENT_TWEET_REPORT),
    ActionHead("video_open", pb.CLIENT_TWEET_VIDEO_OPEN),
    ActionHead("open_link", pb.CLIENT_TWEET_OPEN_LINK),
    ActionHead("not_dwelled", pb.CLIENT_TWEET_RECAP_NOT_DWELLED),
)

CONTINUOUS_ACTIONS: tuple[ActionHead, ...] = (ActionHead("dwell_time", pb.DWELL_TIME),)

NUM_DISCRETE = len(DISCRETE_ACTIONS)
NUM_CONTINUOUS = len(CONTINUOUS_ACTIONS)
ACTION_NAMES: tuple[str, ...] = tuple(h.name for h in DISCRETE_ACTIONS)
HEAD_INDEX_BY_NAME: dict[str, int] = {h.name: i for i, h in enumerate(DISCRETE_ACTIONS)}
HEAD_INDEX_BY_ACTION: dict[int, int] = {h.action: i for i, h in enumerate(DISCRETE_ACTIONS)}
ACTION_NUMBER_BY_NAME: dict[str, int] = {h.name: h.action for h in DISCRETE_ACTIONS}
NAME_BY_ACTION_NUMBER: dict[int, str] = {h.action: h.name for h in DISCRETE_ACTIONS}

# Dwell targets are clipped to this many seconds (reference §4.2/§4.3.5: clip(dwell, 0, 30) / 30).
DWELL_CLIP_S = 30.0

assert len(set(ACTION_NAMES)) == NUM_DISCRETE and len(HEAD_INDEX_BY_ACTION) == NUM_DISCRETE
assert all(0 < h.action < OUTPUT_SLOTS for h in DISCRETE_ACTIONS)


def head_index(name_or_number: str | int) -> int:
    """Compact head index for a readable name or an ``ActionName`` number (clear error otherwise)."""
    table = HEAD_INDEX_BY_NAME if isinstance(name_or_number, str) else HEAD_INDEX_BY_ACTION
    try:
        return table[name_or_number]
    except KeyError:
        raise KeyError(f"{name_or_number!r} is not a ranker head; heads: {', '.join(ACTION_NAMES)}") from None
