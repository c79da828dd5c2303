"""Validation and the shared pure logic of applying and aggregating user-state events.

Both state implementations call these so that what counts as malformed, how keywords are
normalised and how a sequence is aggregated can never differ between Redis and memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from google.protobuf.message import Message

from events.world.actions import ACTION_NUMBERS
from protos import events_pb2, recsys_pb2

IMPRESSION = ACTION_NUMBERS["impression"]
NOT_DWELLED = ACTION_NUMBERS["not_dwelled"]
_NON_ENGAGEMENT = frozenset({IMPRESSION, NOT_DWELLED})
_TARGETED = {events_pb2.FOLLOW, events_pb2.UNFOLLOW, events_pb2.BLOCK, events_pb2.UNBLOCK, events_pb2.MUTE,
             events_pb2.UNMUTE}
_KEYWORD = {events_pb2.MUTE_KEYWORD, events_pb2.UNMUTE_KEYWORD}


def normalize_keyword(keyword: str) -> str:
    return keyword.strip().lower()


def validate_engagement(e: events_pb2.EngagementEvent) -> str | None:
    if not e.event_id:
        return "missing event_id"
    if e.user_id <= 0 or e.post_id <= 0:
        return "user_id and post_id must be positive"
    if e.action == 0:
        return "missing action"
    return None


def validate_social(e: events_pb2.SocialGraphEvent) -> str | None:
    if not e.event_id:
        return "missing event_id"
    if e.user_id <= 0:
        return "user_id must be positive"
    if e.action in _TARGETED:
        return None if e.target_user_id > 0 else "target_user_id must be positive"
    if e.action in _KEYWORD:
        return None if normalize_keyword(e.keyword) else "empty keyword"
    return f"unknown social-graph action {e.action}"


def validate_post(e: events_pb2.PostEvent) -> str | None:
    if not e.event_id:
        return "missing event_id"
    kind = e.WhichOneof("event")
    if kind == "created":
        return None if e.created.post_id > 0 and e.created.author_id > 0 else "post_id/author_id must be positive"
    if kind == "deleted":
        return None if e.deleted.post_id > 0 else "post_id must be positive"
    return "neither created nor deleted"


def validate(message: Message) -> str | None:
    """None when ``message`` is a valid user-state event, else why not."""
    if isinstance(message, events_pb2.EngagementEvent):
        return validate_engagement(message)
    if isinstance(message, events_pb2.SocialGraphEvent):
        return validate_social(message)
    if isinstance(message, events_pb2.PostEvent):
        return validate_post(message)
    return f"unsupported event type {type(message).__name__}"


def aggregate_sequence(user_id: int, events: Iterable[events_pb2.EngagementEvent], max_len: int,
                       posts: Mapping[int, events_pb2.PostCreated]) -> recsys_pb2.UserActionSequence:
    """Group a user's events per post (X's AggregatedUserAction), newest last.

    A post's position is the time of its latest engagement; posts with only an impression (or an
    impression and "not dwelled") are left out, they carry no engagement. ``posts`` supplies core
    data so reposts are described by their original, as the ranker expects."""
    groups: dict[int, list[events_pb2.EngagementEvent]] = {}
    for e in events:
        groups.setdefault(e.post_id, []).append(e)
    kept = []
    for post_id, evs in groups.items():
        engaged = [e for e in evs if e.action not in _NON_ENGAGEMENT]
        if engaged:
            kept.append((max(e.timestamp_ms for e in engaged), post_id, evs))
    kept.sort(key=lambda g: (g[0], g[1]))
    seq = recsys_pb2.UserActionSequence(user_id=user_id)
    for _, post_id, evs in kept[-max_len:] if max_len > 0 else []:
        agg = seq.user_actions.add()
        first = evs[0]
        _fill_tweet_info(agg.tweet_info, post_id, first.author_id, posts.get(post_id))
        impressions = [e.timestamp_ms for e in evs if e.action == IMPRESSION]
        agg.impressed_time_ms = min(impressions) if impressions else min(e.timestamp_ms for e in evs)
        for e in evs:
            if e.action == IMPRESSION:
                continue
            agg.actions.add(action_name=e.action, engagement_time_ms=e.timestamp_ms, dwell_time_ms=e.dwell_time_ms,
                            product_surface=e.product_surface)
    return seq


def _fill_tweet_info(info: recsys_pb2.TweetInfo, post_id: int, author_id: int,
                     core: events_pb2.PostCreated | None) -> None:
    info.tweet_id, info.author_id = post_id, author_id
    if core is None:
        return
    info.created_at_ms = core.created_at * 1000
    if core.topic_id > 0:  # the content code the ranker reads (semanticIds level 0 = topic)
        info.semantic_ids.append(core.topic_id)
    if core.is_retweet and core.source_post_id:
        info.tweet_id, info.author_id = core.source_post_id, core.source_user_id
        info.retweeting_tweet_id, info.retweeting_author_id = post_id, core.author_id
        info.retweeted_tweet_id = core.source_post_id
    if core.is_reply:
        info.in_reply_to_tweet_id, info.in_reply_to_author_id = core.in_reply_to_post_id, core.in_reply_to_user_id
    if core.quoted_post_id:
        info.quoted_tweet_id, info.quoted_author_id = core.quoted_post_id, core.quoted_user_id
    info.min_video_duration_ms = core.video_duration_ms
