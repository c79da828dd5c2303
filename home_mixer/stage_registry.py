"""Built-in stages, registered by name through the ``candidate_pipeline.stages`` entry point
(the same mechanism third-party plugins use). Each name equals the stage's ``name``, so stats,
logs, "removed by" records and the config file all use one vocabulary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from home_mixer.candidate_hydrators import (
    author_info,
    bidirectional_follow,
    blocked_by,
    core_data,
    engagement_counts,
    in_network,
    visibility,
)
from home_mixer.filters import (
    age,
    author_socialgraph,
    core_data_hydration,
    dedup_conversation,
    drop_duplicates,
    ineligible_subscription,
    max_results,
    muted_keyword,
    oon_repost_reply,
    previously_seen,
    previously_served,
    repost_dedup,
    self_post,
    video,
)
from home_mixer.filters import visibility as visibility_filter
from home_mixer.query_hydrators import (
    cached_posts,
    impression_bloom,
    retrieval_sequence,
    scoring_sequence,
    served_history,
    social_graph,
    viewer_stats,
)
from home_mixer.scorers import (
    author_cold_start,
    author_diversity,
    dpp_ranker,
    oon_scorer,
    phoenix_scorer,
    ranker_fallback,
    weighted_scorer,
)
from home_mixer.selectors import top_k_score
from home_mixer.side_effects import impressions, scored_posts_cache, served_event
from home_mixer.side_effects import served_history as served_history_effect
from home_mixer.sources import cached_posts_source, phoenix_source, thunder_source

STAGES: Mapping[str, Callable[..., Any]] = {
    # query hydrators
    "ScoringSequenceQueryHydrator": scoring_sequence.build,
    "RetrievalSequenceQueryHydrator": retrieval_sequence.build,
    "FollowedUserIdsQueryHydrator": social_graph.build_followed,
    "BlockedUserIdsQueryHydrator": social_graph.build_blocked,
    "MutedUserIdsQueryHydrator": social_graph.build_muted,
    "MutedKeywordsQueryHydrator": social_graph.build_muted_keywords,
    "ViewerStatsQueryHydrator": viewer_stats.build,
    "ServedHistoryQueryHydrator": served_history.build,
    "ImpressionBloomFilterQueryHydrator": impression_bloom.build,
    "CachedPostsQueryHydrator": cached_posts.build,
    # sources
    "ThunderSource": thunder_source.build,
    "PhoenixSource": phoenix_source.build,
    "CachedPostsSource": cached_posts_source.build,
    # candidate hydrators
    "InNetworkCandidateHydrator": in_network.build,
    "CoreDataCandidateHydrator": core_data.build,
    "AuthorInfoCandidateHydrator": author_info.build,
    "BidirectionalFollowHydrator": bidirectional_follow.build,
    "BlockedByHydrator": blocked_by.build,
    "EngagementCountsHydrator": engagement_counts.build,
    "VisibilityHydrator": visibility.build,
    # filters
    "DropDuplicatesFilter": drop_duplicates.build,
    "CoreDataHydrationFilter": core_data_hydration.build,
    "AgeFilter": age.build,
    "SelfTweetFilter": self_post.build,
    "OONRetweetReplyFilter": oon_repost_reply.build,
    "RetweetDeduplicationFilter": repost_dedup.build,
    "IneligibleSubscriptionFilter": ineligible_subscription.build,
    "PreviouslySeenPostsFilter": previously_seen.build,
    "PreviouslyServedPostsFilter": previously_served.build,
    "MutedKeywordFilter": muted_keyword.build,
    "AuthorSocialgraphFilter": author_socialgraph.build,
    "VideoFilter": video.build,
    "VisibilityFilter": visibility_filter.build,
    "DedupConversationFilter": dedup_conversation.build,
    "MaxResultsFilter": max_results.build,
    # scorers
    "PhoenixScorer": phoenix_scorer.build,
    "WeightedScorer": weighted_scorer.build,
    "AuthorColdStartScorer": author_cold_start.build,
    "AuthorDiversityScorer": author_diversity.build,
    "OONScorer": oon_scorer.build,
    "RankerFallbackScorer": ranker_fallback.build,
    "DppRanker": dpp_ranker.build,
    # selector
    "TopKScoreSelector": top_k_score.build,
    # side effects
    "UpdateServedHistorySideEffect": served_history_effect.build,
    "RecordImpressionsSideEffect": impressions.build,
    "ScoredPostsCacheSideEffect": scored_posts_cache.build,
    "ServedEventSideEffect": served_event.build,
}
