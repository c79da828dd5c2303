"""Out-of-network candidates from two-tower retrieval (X's PhoenixSource).

Skipped for in-network-only requests and when the cached scored posts are replayed. Seen and
served ids are excluded at retrieval time so the 1,000 slots are not spent on posts the
filters would drop anyway.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, RetrievalClient
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import PHOENIX_MAX_RESULTS
from protos import recsys_pb2 as rp


class PhoenixSource(BaseStage):
    def __init__(self, retrieval: RetrievalClient, max_results: int = PHOENIX_MAX_RESULTS) -> None:
        self.retrieval = retrieval
        self.max_results = max_results

    def enable(self, query: FeedQuery) -> bool:
        return not query.in_network_only and not query.has_cached_posts

    async def get_candidates(self, query: FeedQuery) -> list[PostCandidate]:
        exclude = sorted(set(query.seen_ids) | set(query.served_ids) | query.served_history_ids)
        hits, version = await self.retrieval.retrieve(
            query.viewer_id, query.retrieval_sequence, self.max_results, exclude
        )
        served = rp.ServedType.FOR_YOU_PHOENIX_RETRIEVAL
        return [PostCandidate(pid, aid, served, retrieval_score=float(score)) for pid, aid, score in hits]


def build(deps: Deps, max_results: int = PHOENIX_MAX_RESULTS) -> PhoenixSource:
    return PhoenixSource(deps.require("retrieval"), max_results)  # type: ignore[arg-type]
