from protos import recsys_pb2 as _recsys_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SocialGraphAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOCIAL_GRAPH_ACTION_UNSPECIFIED: _ClassVar[SocialGraphAction]
    FOLLOW: _ClassVar[SocialGraphAction]
    UNFOLLOW: _ClassVar[SocialGraphAction]
    BLOCK: _ClassVar[SocialGraphAction]
    UNBLOCK: _ClassVar[SocialGraphAction]
    MUTE: _ClassVar[SocialGraphAction]
    UNMUTE: _ClassVar[SocialGraphAction]
    MUTE_KEYWORD: _ClassVar[SocialGraphAction]
    UNMUTE_KEYWORD: _ClassVar[SocialGraphAction]
SOCIAL_GRAPH_ACTION_UNSPECIFIED: SocialGraphAction
FOLLOW: SocialGraphAction
UNFOLLOW: SocialGraphAction
BLOCK: SocialGraphAction
UNBLOCK: SocialGraphAction
MUTE: SocialGraphAction
UNMUTE: SocialGraphAction
MUTE_KEYWORD: SocialGraphAction
UNMUTE_KEYWORD: SocialGraphAction

class PostCreated(_message.Message):
    __slots__ = ("post_id", "author_id", "created_at", "in_reply_to_post_id", "in_reply_to_user_id", "is_retweet", "is_reply", "source_post_id", "source_user_id", "has_video", "conversation_id", "quoted_post_id", "quoted_user_id", "text", "video_duration_ms", "has_media", "language_code", "labels", "subscription_author_id", "topic_id")
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_POST_ID_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    IS_RETWEET_FIELD_NUMBER: _ClassVar[int]
    IS_REPLY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_POST_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    HAS_VIDEO_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_POST_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VIDEO_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    HAS_MEDIA_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_ID_FIELD_NUMBER: _ClassVar[int]
    post_id: int
    author_id: int
    created_at: int
    in_reply_to_post_id: int
    in_reply_to_user_id: int
    is_retweet: bool
    is_reply: bool
    source_post_id: int
    source_user_id: int
    has_video: bool
    conversation_id: int
    quoted_post_id: int
    quoted_user_id: int
    text: str
    video_duration_ms: int
    has_media: bool
    language_code: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    subscription_author_id: int
    topic_id: int
    def __init__(self, post_id: _Optional[int] = ..., author_id: _Optional[int] = ..., created_at: _Optional[int] = ..., in_reply_to_post_id: _Optional[int] = ..., in_reply_to_user_id: _Optional[int] = ..., is_retweet: _Optional[bool] = ..., is_reply: _Optional[bool] = ..., source_post_id: _Optional[int] = ..., source_user_id: _Optional[int] = ..., has_video: _Optional[bool] = ..., conversation_id: _Optional[int] = ..., quoted_post_id: _Optional[int] = ..., quoted_user_id: _Optional[int] = ..., text: _Optional[str] = ..., video_duration_ms: _Optional[int] = ..., has_media: _Optional[bool] = ..., language_code: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., subscription_author_id: _Optional[int] = ..., topic_id: _Optional[int] = ...) -> None: ...

class PostDeleted(_message.Message):
    __slots__ = ("post_id", "deleted_at", "author_id")
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    post_id: int
    deleted_at: int
    author_id: int
    def __init__(self, post_id: _Optional[int] = ..., deleted_at: _Optional[int] = ..., author_id: _Optional[int] = ...) -> None: ...

class PostEvent(_message.Message):
    __slots__ = ("event_id", "created", "deleted")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    created: PostCreated
    deleted: PostDeleted
    def __init__(self, event_id: _Optional[str] = ..., created: _Optional[_Union[PostCreated, _Mapping]] = ..., deleted: _Optional[_Union[PostDeleted, _Mapping]] = ...) -> None: ...

class EngagementEvent(_message.Message):
    __slots__ = ("event_id", "user_id", "post_id", "author_id", "action", "timestamp_ms", "dwell_time_ms", "product_surface", "request_id", "position")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    DWELL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_SURFACE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    user_id: int
    post_id: int
    author_id: int
    action: _recsys_pb2.ActionName
    timestamp_ms: int
    dwell_time_ms: int
    product_surface: _recsys_pb2.ProductSurface
    request_id: str
    position: int
    def __init__(self, event_id: _Optional[str] = ..., user_id: _Optional[int] = ..., post_id: _Optional[int] = ..., author_id: _Optional[int] = ..., action: _Optional[_Union[_recsys_pb2.ActionName, str]] = ..., timestamp_ms: _Optional[int] = ..., dwell_time_ms: _Optional[int] = ..., product_surface: _Optional[_Union[_recsys_pb2.ProductSurface, str]] = ..., request_id: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class SocialGraphEvent(_message.Message):
    __slots__ = ("event_id", "user_id", "action", "target_user_id", "keyword", "timestamp_ms")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_USER_ID_FIELD_NUMBER: _ClassVar[int]
    KEYWORD_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    user_id: int
    action: SocialGraphAction
    target_user_id: int
    keyword: str
    timestamp_ms: int
    def __init__(self, event_id: _Optional[str] = ..., user_id: _Optional[int] = ..., action: _Optional[_Union[SocialGraphAction, str]] = ..., target_user_id: _Optional[int] = ..., keyword: _Optional[str] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class ServedCandidate(_message.Message):
    __slots__ = ("post_id", "author_id", "served_type", "in_network", "selected", "position", "score", "weighted_score", "action_probabilities", "retweeted_post_id", "has_probabilities")
    class ActionProbabilitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    SERVED_TYPE_FIELD_NUMBER: _ClassVar[int]
    IN_NETWORK_FIELD_NUMBER: _ClassVar[int]
    SELECTED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_SCORE_FIELD_NUMBER: _ClassVar[int]
    ACTION_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_POST_ID_FIELD_NUMBER: _ClassVar[int]
    HAS_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    post_id: int
    author_id: int
    served_type: _recsys_pb2.ServedType
    in_network: bool
    selected: bool
    position: int
    score: float
    weighted_score: float
    action_probabilities: _containers.ScalarMap[str, float]
    retweeted_post_id: int
    has_probabilities: bool
    def __init__(self, post_id: _Optional[int] = ..., author_id: _Optional[int] = ..., served_type: _Optional[_Union[_recsys_pb2.ServedType, str]] = ..., in_network: _Optional[bool] = ..., selected: _Optional[bool] = ..., position: _Optional[int] = ..., score: _Optional[float] = ..., weighted_score: _Optional[float] = ..., action_probabilities: _Optional[_Mapping[str, float]] = ..., retweeted_post_id: _Optional[int] = ..., has_probabilities: _Optional[bool] = ...) -> None: ...

class ServedFeed(_message.Message):
    __slots__ = ("event_id", "request_id", "viewer_id", "served_at_ms", "pipeline", "model_version", "in_network_only", "candidates", "degraded", "probability_actions", "probabilities")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    SERVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    IN_NETWORK_ONLY_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    request_id: str
    viewer_id: int
    served_at_ms: int
    pipeline: str
    model_version: str
    in_network_only: bool
    candidates: _containers.RepeatedCompositeFieldContainer[ServedCandidate]
    degraded: _containers.RepeatedScalarFieldContainer[str]
    probability_actions: _containers.RepeatedScalarFieldContainer[str]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, event_id: _Optional[str] = ..., request_id: _Optional[str] = ..., viewer_id: _Optional[int] = ..., served_at_ms: _Optional[int] = ..., pipeline: _Optional[str] = ..., model_version: _Optional[str] = ..., in_network_only: _Optional[bool] = ..., candidates: _Optional[_Iterable[_Union[ServedCandidate, _Mapping]]] = ..., degraded: _Optional[_Iterable[str]] = ..., probability_actions: _Optional[_Iterable[str]] = ..., probabilities: _Optional[_Iterable[float]] = ...) -> None: ...
