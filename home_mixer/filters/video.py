"""When the request excludes videos, drop posts with any video (X's VideoFilter)."""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class VideoFilter(BaseStage):
    def enable(self, query: FeedQuery) -> bool:
        return query.exclude_videos

    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        return split(candidates, lambda c: "has video" if c.has_video or c.min_video_duration_ms else None)


def build(deps: Deps) -> VideoFilter:
    return VideoFilter()
