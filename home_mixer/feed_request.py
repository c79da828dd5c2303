"""Turn a ``ForYouFeedRequest`` into a ``FeedQuery``, refusing what the service cannot honour.

Validation is explicit and up front: a zero viewer or a 50,000-id seen list is a client bug,
and answering INVALID_ARGUMENT with the reason is kinder than a silently truncated feed. An
UNKNOWN viewer is not an error: they simply get a feed from whatever state exists.
"""

from __future__ import annotations

import uuid

from home_mixer.models import FeedQuery
from home_mixer.params import RESULT_SIZE
from home_mixer.settings import HomeMixerSettings
from protos import home_mixer_pb2 as hm


def request_problem(request: hm.ForYouFeedRequest, settings: HomeMixerSettings) -> str | None:
    """Why the request is invalid, or None when it is fine."""
    if request.viewer_id <= 0:
        return f"viewer_id must be > 0, got {request.viewer_id}"
    if len(request.seen_ids) > settings.max_seen_ids:
        return f"seen_ids has {len(request.seen_ids)} ids; at most {settings.max_seen_ids} are allowed"
    if len(request.served_ids) > settings.max_served_ids:
        return f"served_ids has {len(request.served_ids)} ids; at most {settings.max_served_ids} are allowed"
    if request.max_results > settings.max_results:
        return f"max_results must be <= {settings.max_results}, got {request.max_results}"
    return None


def query_from_request(request: hm.ForYouFeedRequest, now_ms: int) -> FeedQuery:
    """The pipeline query for a VALID request (``max_results`` 0 means the default 35)."""
    return FeedQuery(
        viewer_id=request.viewer_id,
        request_id=request.request_id or uuid.uuid4().hex,
        seen_ids=list(request.seen_ids),
        served_ids=list(request.served_ids),
        in_network_only=request.in_network_only,
        exclude_videos=request.exclude_videos,
        is_bottom_request=request.is_bottom_request,
        max_results=request.max_results or RESULT_SIZE,
        debug=request.debug,
        now_ms=now_ms,
    )
