from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActionName(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVALID_NAME: _ClassVar[ActionName]
    SERVER_TWEET_FAV: _ClassVar[ActionName]
    SERVER_TWEET_UNFAV: _ClassVar[ActionName]
    SERVER_TWEET_CREATE: _ClassVar[ActionName]
    SERVER_TWEET_REPLY: _ClassVar[ActionName]
    SERVER_TWEET_QUOTE: _ClassVar[ActionName]
    SERVER_TWEET_RETWEET: _ClassVar[ActionName]
    SERVER_TWEET_UNREPLY: _ClassVar[ActionName]
    SERVER_TWEET_UNQUOTE: _ClassVar[ActionName]
    SERVER_TWEET_UNRETWEET: _ClassVar[ActionName]
    SERVER_TWEET_REPORT: _ClassVar[ActionName]
    CLIENT_TWEET_RECAP_DWELLED: _ClassVar[ActionName]
    CLIENT_TWEET_RECAP_NOT_DWELLED: _ClassVar[ActionName]
    CLIENT_TWEET_VIDEO_QUALITY_VIEW: _ClassVar[ActionName]
    CLIENT_TWEET_PHOTO_EXPAND: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK_MENTION_SCREEN_NAME: _ClassVar[ActionName]
    CLIENT_TWEET_REPORT: _ClassVar[ActionName]
    CLIENT_TWEET_NOT_INTERESTED_IN: _ClassVar[ActionName]
    CLIENT_TWEET_UNDO_NOT_INTERESTED_IN: _ClassVar[ActionName]
    CLIENT_TWEET_SEE_FEWER: _ClassVar[ActionName]
    CLIENT_TWEET_UNDO_SEE_FEWER: _ClassVar[ActionName]
    CLIENT_TWEET_FOLLOW_AUTHOR: _ClassVar[ActionName]
    CLIENT_TWEET_UNFOLLOW_AUTHOR: _ClassVar[ActionName]
    CLIENT_TWEET_BLOCK_AUTHOR: _ClassVar[ActionName]
    CLIENT_TWEET_UNBLOCK_AUTHOR: _ClassVar[ActionName]
    CLIENT_TWEET_MUTE_AUTHOR: _ClassVar[ActionName]
    CLIENT_TWEET_UNMUTE_AUTHOR: _ClassVar[ActionName]
    CLIENT_TWEET_MUTE_CONVERSATION: _ClassVar[ActionName]
    CLIENT_TWEET_UNMUTE_CONVERSATION: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK_PROFILE: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK_SHARE: _ClassVar[ActionName]
    CLIENT_TWEET_SHARE_VIA_COPY_LINK: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK_SEND_VIA_DIRECT_MESSAGE: _ClassVar[ActionName]
    CLIENT_TWEET_UNBOOKMARK: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK_HASHTAG: _ClassVar[ActionName]
    CLIENT_TWEET_BOOKMARK: _ClassVar[ActionName]
    CLIENT_TWEET_SHARE: _ClassVar[ActionName]
    CLIENT_QUOTED_TWEET_CLICK: _ClassVar[ActionName]
    CLIENT_TWEET_OPEN_LINK: _ClassVar[ActionName]
    CLIENT_TWEET_TAKE_SCREENSHOT: _ClassVar[ActionName]
    CLIENT_TWEET_TRANSLATE_CLICK: _ClassVar[ActionName]
    CLIENT_TWEET_NOT_RELEVANT: _ClassVar[ActionName]
    CLIENT_TWEET_UNDO_NOT_RELEVANT: _ClassVar[ActionName]
    CLIENT_CARD_CLICK: _ClassVar[ActionName]
    CLIENT_TWEET_SHOW_MORE_EXPAND: _ClassVar[ActionName]
    CLIENT_TWEET_CLICK_GROK_ANALYZE: _ClassVar[ActionName]
    CLIENT_TWEET_VIDEO_OPEN: _ClassVar[ActionName]
    CLIENT_QUOTED_TWEET_VIDEO_QUALITY_VIEW: _ClassVar[ActionName]
    CLIENT_QUOTED_TWEET_PHOTO_EXPAND: _ClassVar[ActionName]
    CLIENT_NOTIFICATION_OPEN: _ClassVar[ActionName]
    CLIENT_NOTIFICATION_CLICK: _ClassVar[ActionName]
    CLIENT_NOTIFICATION_SEE_LESS_OFTEN: _ClassVar[ActionName]
    CLIENT_NOTIFICATION_DISMISS: _ClassVar[ActionName]
    CLIENT_APP_ENTER: _ClassVar[ActionName]
    CLIENT_APP_EXIT: _ClassVar[ActionName]
    CLIENT_NOTIFICATION_IMPRESSION: _ClassVar[ActionName]
    CLIENT_PROFILE_CLICK: _ClassVar[ActionName]
    CLIENT_NOTIFICATION_SENT: _ClassVar[ActionName]
    SERVER_TWEET_POST_UNEXPLORED: _ClassVar[ActionName]
    CLIENT_TWEET_EXTERNAL_LINK_LONG_DWELLED: _ClassVar[ActionName]
    SERVER_PROFILE_FOLLOW: _ClassVar[ActionName]
    SERVER_PROFILE_UNFOLLOW: _ClassVar[ActionName]
    SERVER_PROFILE_BLOCK: _ClassVar[ActionName]
    CLIENT_TWEET_IMPRESSION: _ClassVar[ActionName]

class ContinuousActionName(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVALID_CONTINUOUS: _ClassVar[ContinuousActionName]
    DWELL_TIME: _ClassVar[ContinuousActionName]
    CLICK_DWELL_TIME: _ClassVar[ContinuousActionName]
    ACTIVE_SECS_5M_RESIDUAL_NORM: _ClassVar[ContinuousActionName]
    BRIDGE_PROBABILITY: _ClassVar[ContinuousActionName]

class ProductSurface(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN: _ClassVar[ProductSurface]
    HOME_TIMELINE_RANKING: _ClassVar[ProductSurface]
    HOME_TIMELINE_LATEST: _ClassVar[ProductSurface]
    NOTIFICATION_TAB: _ClassVar[ProductSurface]
    PUSH: _ClassVar[ProductSurface]
    EMAIL: _ClassVar[ProductSurface]
    SEARCH_RESULTS: _ClassVar[ProductSurface]
    SEARCH_TYPEAHEAD: _ClassVar[ProductSurface]
    TWEET_DETAILS: _ClassVar[ProductSurface]
    PROFILE: _ClassVar[ProductSurface]
    GALLERY: _ClassVar[ProductSurface]
    MEDIA: _ClassVar[ProductSurface]
    COMMUNITY_RANKED: _ClassVar[ProductSurface]
    COMMUNITIES_TIMELINE: _ClassVar[ProductSurface]
    EXPLORE: _ClassVar[ProductSurface]
    HOME_TIMELINE_RANKED_FOLLOWING: _ClassVar[ProductSurface]

class ServedType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNDEFINED: _ClassVar[ServedType]
    FOR_YOU_IN_NETWORK: _ClassVar[ServedType]
    FOR_YOU_PHOENIX_RETRIEVAL: _ClassVar[ServedType]
    FOR_YOU_PHOENIX_RETRIEVAL_MOE: _ClassVar[ServedType]
    FOR_YOU_SIMCLUSTERS: _ClassVar[ServedType]
    FOR_YOU_TWEET_MIXER: _ClassVar[ServedType]
    FOR_YOU_POPULAR_TOPICS: _ClassVar[ServedType]
    FOR_YOU_PUSH_TO_HOME: _ClassVar[ServedType]
    RANKED_FOLLOWING: _ClassVar[ServedType]
    FOLLOWING_IN_NETWORK: _ClassVar[ServedType]
    FOR_YOU_CACHED: _ClassVar[ServedType]
INVALID_NAME: ActionName
SERVER_TWEET_FAV: ActionName
SERVER_TWEET_UNFAV: ActionName
SERVER_TWEET_CREATE: ActionName
SERVER_TWEET_REPLY: ActionName
SERVER_TWEET_QUOTE: ActionName
SERVER_TWEET_RETWEET: ActionName
SERVER_TWEET_UNREPLY: ActionName
SERVER_TWEET_UNQUOTE: ActionName
SERVER_TWEET_UNRETWEET: ActionName
SERVER_TWEET_REPORT: ActionName
CLIENT_TWEET_RECAP_DWELLED: ActionName
CLIENT_TWEET_RECAP_NOT_DWELLED: ActionName
CLIENT_TWEET_VIDEO_QUALITY_VIEW: ActionName
CLIENT_TWEET_PHOTO_EXPAND: ActionName
CLIENT_TWEET_CLICK_MENTION_SCREEN_NAME: ActionName
CLIENT_TWEET_REPORT: ActionName
CLIENT_TWEET_NOT_INTERESTED_IN: ActionName
CLIENT_TWEET_UNDO_NOT_INTERESTED_IN: ActionName
CLIENT_TWEET_SEE_FEWER: ActionName
CLIENT_TWEET_UNDO_SEE_FEWER: ActionName
CLIENT_TWEET_FOLLOW_AUTHOR: ActionName
CLIENT_TWEET_UNFOLLOW_AUTHOR: ActionName
CLIENT_TWEET_BLOCK_AUTHOR: ActionName
CLIENT_TWEET_UNBLOCK_AUTHOR: ActionName
CLIENT_TWEET_MUTE_AUTHOR: ActionName
CLIENT_TWEET_UNMUTE_AUTHOR: ActionName
CLIENT_TWEET_MUTE_CONVERSATION: ActionName
CLIENT_TWEET_UNMUTE_CONVERSATION: ActionName
CLIENT_TWEET_CLICK: ActionName
CLIENT_TWEET_CLICK_PROFILE: ActionName
CLIENT_TWEET_CLICK_SHARE: ActionName
CLIENT_TWEET_SHARE_VIA_COPY_LINK: ActionName
CLIENT_TWEET_CLICK_SEND_VIA_DIRECT_MESSAGE: ActionName
CLIENT_TWEET_UNBOOKMARK: ActionName
CLIENT_TWEET_CLICK_HASHTAG: ActionName
CLIENT_TWEET_BOOKMARK: ActionName
CLIENT_TWEET_SHARE: ActionName
CLIENT_QUOTED_TWEET_CLICK: ActionName
CLIENT_TWEET_OPEN_LINK: ActionName
CLIENT_TWEET_TAKE_SCREENSHOT: ActionName
CLIENT_TWEET_TRANSLATE_CLICK: ActionName
CLIENT_TWEET_NOT_RELEVANT: ActionName
CLIENT_TWEET_UNDO_NOT_RELEVANT: ActionName
CLIENT_CARD_CLICK: ActionName
CLIENT_TWEET_SHOW_MORE_EXPAND: ActionName
CLIENT_TWEET_CLICK_GROK_ANALYZE: ActionName
CLIENT_TWEET_VIDEO_OPEN: ActionName
CLIENT_QUOTED_TWEET_VIDEO_QUALITY_VIEW: ActionName
CLIENT_QUOTED_TWEET_PHOTO_EXPAND: ActionName
CLIENT_NOTIFICATION_OPEN: ActionName
CLIENT_NOTIFICATION_CLICK: ActionName
CLIENT_NOTIFICATION_SEE_LESS_OFTEN: ActionName
CLIENT_NOTIFICATION_DISMISS: ActionName
CLIENT_APP_ENTER: ActionName
CLIENT_APP_EXIT: ActionName
CLIENT_NOTIFICATION_IMPRESSION: ActionName
CLIENT_PROFILE_CLICK: ActionName
CLIENT_NOTIFICATION_SENT: ActionName
SERVER_TWEET_POST_UNEXPLORED: ActionName
CLIENT_TWEET_EXTERNAL_LINK_LONG_DWELLED: ActionName
SERVER_PROFILE_FOLLOW: ActionName
SERVER_PROFILE_UNFOLLOW: ActionName
SERVER_PROFILE_BLOCK: ActionName
CLIENT_TWEET_IMPRESSION: ActionName
INVALID_CONTINUOUS: ContinuousActionName
DWELL_TIME: ContinuousActionName
CLICK_DWELL_TIME: ContinuousActionName
ACTIVE_SECS_5M_RESIDUAL_NORM: ContinuousActionName
BRIDGE_PROBABILITY: ContinuousActionName
UNKNOWN: ProductSurface
HOME_TIMELINE_RANKING: ProductSurface
HOME_TIMELINE_LATEST: ProductSurface
NOTIFICATION_TAB: ProductSurface
PUSH: ProductSurface
EMAIL: ProductSurface
SEARCH_RESULTS: ProductSurface
SEARCH_TYPEAHEAD: ProductSurface
TWEET_DETAILS: ProductSurface
PROFILE: ProductSurface
GALLERY: ProductSurface
MEDIA: ProductSurface
COMMUNITY_RANKED: ProductSurface
COMMUNITIES_TIMELINE: ProductSurface
EXPLORE: ProductSurface
HOME_TIMELINE_RANKED_FOLLOWING: ProductSurface
UNDEFINED: ServedType
FOR_YOU_IN_NETWORK: ServedType
FOR_YOU_PHOENIX_RETRIEVAL: ServedType
FOR_YOU_PHOENIX_RETRIEVAL_MOE: ServedType
FOR_YOU_SIMCLUSTERS: ServedType
FOR_YOU_TWEET_MIXER: ServedType
FOR_YOU_POPULAR_TOPICS: ServedType
FOR_YOU_PUSH_TO_HOME: ServedType
RANKED_FOLLOWING: ServedType
FOLLOWING_IN_NETWORK: ServedType
FOR_YOU_CACHED: ServedType

class AuthorInfo(_message.Message):
    __slots__ = ("author_id", "is_followed_by_user", "followers", "is_following_user")
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    IS_FOLLOWED_BY_USER_FIELD_NUMBER: _ClassVar[int]
    FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    IS_FOLLOWING_USER_FIELD_NUMBER: _ClassVar[int]
    author_id: int
    is_followed_by_user: bool
    followers: int
    is_following_user: bool
    def __init__(self, author_id: _Optional[int] = ..., is_followed_by_user: _Optional[bool] = ..., followers: _Optional[int] = ..., is_following_user: _Optional[bool] = ...) -> None: ...

class TweetInfo(_message.Message):
    __slots__ = ("tweet_id", "author_id", "retweeting_tweet_id", "quoted_tweet_id", "in_reply_to_tweet_id", "retweeted_tweet_id", "author_info", "retweeting_author_id", "quoted_author_id", "in_reply_to_author_id", "fav_count", "reply_count", "retweet_count", "quote_count", "is_author_followed_by_user", "view_count", "min_video_duration_ms", "bookmark_count", "created_at_ms", "semantic_ids")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETING_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_INFO_FIELD_NUMBER: _ClassVar[int]
    RETWEETING_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    FAV_COUNT_FIELD_NUMBER: _ClassVar[int]
    REPLY_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETWEET_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUOTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    IS_AUTHOR_FOLLOWED_BY_USER_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_VIDEO_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_IDS_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    author_id: int
    retweeting_tweet_id: int
    quoted_tweet_id: int
    in_reply_to_tweet_id: int
    retweeted_tweet_id: int
    author_info: AuthorInfo
    retweeting_author_id: int
    quoted_author_id: int
    in_reply_to_author_id: int
    fav_count: int
    reply_count: int
    retweet_count: int
    quote_count: int
    is_author_followed_by_user: bool
    view_count: int
    min_video_duration_ms: int
    bookmark_count: int
    created_at_ms: int
    semantic_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, tweet_id: _Optional[int] = ..., author_id: _Optional[int] = ..., retweeting_tweet_id: _Optional[int] = ..., quoted_tweet_id: _Optional[int] = ..., in_reply_to_tweet_id: _Optional[int] = ..., retweeted_tweet_id: _Optional[int] = ..., author_info: _Optional[_Union[AuthorInfo, _Mapping]] = ..., retweeting_author_id: _Optional[int] = ..., quoted_author_id: _Optional[int] = ..., in_reply_to_author_id: _Optional[int] = ..., fav_count: _Optional[int] = ..., reply_count: _Optional[int] = ..., retweet_count: _Optional[int] = ..., quote_count: _Optional[int] = ..., is_author_followed_by_user: _Optional[bool] = ..., view_count: _Optional[int] = ..., min_video_duration_ms: _Optional[int] = ..., bookmark_count: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., semantic_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ActionInfo(_message.Message):
    __slots__ = ("action_name", "engagement_time_ms", "dwell_time_ms", "product_surface")
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    DWELL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_SURFACE_FIELD_NUMBER: _ClassVar[int]
    action_name: ActionName
    engagement_time_ms: int
    dwell_time_ms: int
    product_surface: ProductSurface
    def __init__(self, action_name: _Optional[_Union[ActionName, str]] = ..., engagement_time_ms: _Optional[int] = ..., dwell_time_ms: _Optional[int] = ..., product_surface: _Optional[_Union[ProductSurface, str]] = ...) -> None: ...

class AggregatedUserAction(_message.Message):
    __slots__ = ("tweet_info", "actions", "impressed_time_ms")
    TWEET_INFO_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    IMPRESSED_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    tweet_info: TweetInfo
    actions: _containers.RepeatedCompositeFieldContainer[ActionInfo]
    impressed_time_ms: int
    def __init__(self, tweet_info: _Optional[_Union[TweetInfo, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[ActionInfo, _Mapping]]] = ..., impressed_time_ms: _Optional[int] = ...) -> None: ...

class UserActionSequence(_message.Message):
    __slots__ = ("user_id", "user_actions")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    user_actions: _containers.RepeatedCompositeFieldContainer[AggregatedUserAction]
    def __init__(self, user_id: _Optional[int] = ..., user_actions: _Optional[_Iterable[_Union[AggregatedUserAction, _Mapping]]] = ...) -> None: ...

class CandidateSet(_message.Message):
    __slots__ = ("user_id", "candidates", "product_surface", "packed")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_SURFACE_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    candidates: _containers.RepeatedCompositeFieldContainer[TweetInfo]
    product_surface: ProductSurface
    packed: PackedCandidates
    def __init__(self, user_id: _Optional[int] = ..., candidates: _Optional[_Iterable[_Union[TweetInfo, _Mapping]]] = ..., product_surface: _Optional[_Union[ProductSurface, str]] = ..., packed: _Optional[_Union[PackedCandidates, _Mapping]] = ...) -> None: ...

class PackedCandidates(_message.Message):
    __slots__ = ("count", "tweet_id", "author_id", "retweeting_tweet_id", "retweeting_author_id", "retweeted_tweet_id", "quoted_tweet_id", "quoted_author_id", "in_reply_to_tweet_id", "in_reply_to_author_id", "fav_count", "reply_count", "retweet_count", "quote_count", "view_count", "bookmark_count", "min_video_duration_ms", "created_at_ms", "is_author_followed_by_user", "author_followers", "author_is_following_user", "semantic_ids", "semantic_id_levels")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETING_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETING_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    FAV_COUNT_FIELD_NUMBER: _ClassVar[int]
    REPLY_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETWEET_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUOTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_VIDEO_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    IS_AUTHOR_FOLLOWED_BY_USER_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_IS_FOLLOWING_USER_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_IDS_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_ID_LEVELS_FIELD_NUMBER: _ClassVar[int]
    count: int
    tweet_id: bytes
    author_id: bytes
    retweeting_tweet_id: bytes
    retweeting_author_id: bytes
    retweeted_tweet_id: bytes
    quoted_tweet_id: bytes
    quoted_author_id: bytes
    in_reply_to_tweet_id: bytes
    in_reply_to_author_id: bytes
    fav_count: bytes
    reply_count: bytes
    retweet_count: bytes
    quote_count: bytes
    view_count: bytes
    bookmark_count: bytes
    min_video_duration_ms: bytes
    created_at_ms: bytes
    is_author_followed_by_user: bytes
    author_followers: bytes
    author_is_following_user: bytes
    semantic_ids: bytes
    semantic_id_levels: int
    def __init__(self, count: _Optional[int] = ..., tweet_id: _Optional[bytes] = ..., author_id: _Optional[bytes] = ..., retweeting_tweet_id: _Optional[bytes] = ..., retweeting_author_id: _Optional[bytes] = ..., retweeted_tweet_id: _Optional[bytes] = ..., quoted_tweet_id: _Optional[bytes] = ..., quoted_author_id: _Optional[bytes] = ..., in_reply_to_tweet_id: _Optional[bytes] = ..., in_reply_to_author_id: _Optional[bytes] = ..., fav_count: _Optional[bytes] = ..., reply_count: _Optional[bytes] = ..., retweet_count: _Optional[bytes] = ..., quote_count: _Optional[bytes] = ..., view_count: _Optional[bytes] = ..., bookmark_count: _Optional[bytes] = ..., min_video_duration_ms: _Optional[bytes] = ..., created_at_ms: _Optional[bytes] = ..., is_author_followed_by_user: _Optional[bytes] = ..., author_followers: _Optional[bytes] = ..., author_is_following_user: _Optional[bytes] = ..., semantic_ids: _Optional[bytes] = ..., semantic_id_levels: _Optional[int] = ...) -> None: ...

class PredictNextActionsRequest(_message.Message):
    __slots__ = ("sequences", "candidate_sets", "return_logprob", "metadata")
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SETS_FIELD_NUMBER: _ClassVar[int]
    RETURN_LOGPROB_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    sequences: _containers.RepeatedCompositeFieldContainer[UserActionSequence]
    candidate_sets: _containers.RepeatedCompositeFieldContainer[CandidateSet]
    return_logprob: bool
    metadata: str
    def __init__(self, sequences: _Optional[_Iterable[_Union[UserActionSequence, _Mapping]]] = ..., candidate_sets: _Optional[_Iterable[_Union[CandidateSet, _Mapping]]] = ..., return_logprob: _Optional[bool] = ..., metadata: _Optional[str] = ...) -> None: ...

class NextActionDistribution(_message.Message):
    __slots__ = ("candidate", "top_log_probs", "continuous_actions_values")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    TOP_LOG_PROBS_FIELD_NUMBER: _ClassVar[int]
    CONTINUOUS_ACTIONS_VALUES_FIELD_NUMBER: _ClassVar[int]
    candidate: TweetInfo
    top_log_probs: _containers.RepeatedScalarFieldContainer[float]
    continuous_actions_values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, candidate: _Optional[_Union[TweetInfo, _Mapping]] = ..., top_log_probs: _Optional[_Iterable[float]] = ..., continuous_actions_values: _Optional[_Iterable[float]] = ...) -> None: ...

class CandidateDistributionSet(_message.Message):
    __slots__ = ("user_id", "candidate_distributions", "checkpoint_path", "packed")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_DISTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_PATH_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    candidate_distributions: _containers.RepeatedCompositeFieldContainer[NextActionDistribution]
    checkpoint_path: str
    packed: PackedDistributions
    def __init__(self, user_id: _Optional[int] = ..., candidate_distributions: _Optional[_Iterable[_Union[NextActionDistribution, _Mapping]]] = ..., checkpoint_path: _Optional[str] = ..., packed: _Optional[_Union[PackedDistributions, _Mapping]] = ...) -> None: ...

class PackedDistributions(_message.Message):
    __slots__ = ("count", "tweet_id", "actions", "log_probs", "continuous_actions", "continuous_values")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    LOG_PROBS_FIELD_NUMBER: _ClassVar[int]
    CONTINUOUS_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTINUOUS_VALUES_FIELD_NUMBER: _ClassVar[int]
    count: int
    tweet_id: bytes
    actions: _containers.RepeatedScalarFieldContainer[ActionName]
    log_probs: bytes
    continuous_actions: _containers.RepeatedScalarFieldContainer[ContinuousActionName]
    continuous_values: bytes
    def __init__(self, count: _Optional[int] = ..., tweet_id: _Optional[bytes] = ..., actions: _Optional[_Iterable[_Union[ActionName, str]]] = ..., log_probs: _Optional[bytes] = ..., continuous_actions: _Optional[_Iterable[_Union[ContinuousActionName, str]]] = ..., continuous_values: _Optional[bytes] = ...) -> None: ...

class PredictNextActionsResponse(_message.Message):
    __slots__ = ("distribution_sets", "model_version")
    DISTRIBUTION_SETS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    distribution_sets: _containers.RepeatedCompositeFieldContainer[CandidateDistributionSet]
    model_version: str
    def __init__(self, distribution_sets: _Optional[_Iterable[_Union[CandidateDistributionSet, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class ReloadModelRequest(_message.Message):
    __slots__ = ("checkpoint_path",)
    CHECKPOINT_PATH_FIELD_NUMBER: _ClassVar[int]
    checkpoint_path: str
    def __init__(self, checkpoint_path: _Optional[str] = ...) -> None: ...

class ReloadModelResponse(_message.Message):
    __slots__ = ("ok", "model_version", "message")
    OK_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    model_version: str
    message: str
    def __init__(self, ok: _Optional[bool] = ..., model_version: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RetrieveTopKCandidatesRequest(_message.Message):
    __slots__ = ("user_ids", "sequences", "top_k", "metadata", "exclude_post_ids", "packed")
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_POST_IDS_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    sequences: _containers.RepeatedCompositeFieldContainer[UserActionSequence]
    top_k: int
    metadata: str
    exclude_post_ids: _containers.RepeatedScalarFieldContainer[int]
    packed: bool
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ..., sequences: _Optional[_Iterable[_Union[UserActionSequence, _Mapping]]] = ..., top_k: _Optional[int] = ..., metadata: _Optional[str] = ..., exclude_post_ids: _Optional[_Iterable[int]] = ..., packed: _Optional[bool] = ...) -> None: ...

class ScoredCandidate(_message.Message):
    __slots__ = ("candidate", "score")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    candidate: TweetInfo
    score: float
    def __init__(self, candidate: _Optional[_Union[TweetInfo, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class ScoredCandidates(_message.Message):
    __slots__ = ("user_id", "candidates", "packed")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    candidates: _containers.RepeatedCompositeFieldContainer[ScoredCandidate]
    packed: PackedHits
    def __init__(self, user_id: _Optional[int] = ..., candidates: _Optional[_Iterable[_Union[ScoredCandidate, _Mapping]]] = ..., packed: _Optional[_Union[PackedHits, _Mapping]] = ...) -> None: ...

class PackedHits(_message.Message):
    __slots__ = ("count", "tweet_id", "author_id", "score")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    count: int
    tweet_id: bytes
    author_id: bytes
    score: bytes
    def __init__(self, count: _Optional[int] = ..., tweet_id: _Optional[bytes] = ..., author_id: _Optional[bytes] = ..., score: _Optional[bytes] = ...) -> None: ...

class RetrieveTopKCandidatesResponse(_message.Message):
    __slots__ = ("top_k_candidates", "model_version", "index_size")
    TOP_K_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    INDEX_SIZE_FIELD_NUMBER: _ClassVar[int]
    top_k_candidates: _containers.RepeatedCompositeFieldContainer[ScoredCandidates]
    model_version: str
    index_size: int
    def __init__(self, top_k_candidates: _Optional[_Iterable[_Union[ScoredCandidates, _Mapping]]] = ..., model_version: _Optional[str] = ..., index_size: _Optional[int] = ...) -> None: ...
