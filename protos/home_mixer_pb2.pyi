from protos import recsys_pb2 as _recsys_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ForYouFeedRequest(_message.Message):
    __slots__ = ("viewer_id", "seen_ids", "served_ids", "in_network_only", "exclude_videos", "max_results", "debug", "request_id", "is_bottom_request")
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    SEEN_IDS_FIELD_NUMBER: _ClassVar[int]
    SERVED_IDS_FIELD_NUMBER: _ClassVar[int]
    IN_NETWORK_ONLY_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_VIDEOS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    DEBUG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IS_BOTTOM_REQUEST_FIELD_NUMBER: _ClassVar[int]
    viewer_id: int
    seen_ids: _containers.RepeatedScalarFieldContainer[int]
    served_ids: _containers.RepeatedScalarFieldContainer[int]
    in_network_only: bool
    exclude_videos: bool
    max_results: int
    debug: bool
    request_id: str
    is_bottom_request: bool
    def __init__(self, viewer_id: _Optional[int] = ..., seen_ids: _Optional[_Iterable[int]] = ..., served_ids: _Optional[_Iterable[int]] = ..., in_network_only: _Optional[bool] = ..., exclude_videos: _Optional[bool] = ..., max_results: _Optional[int] = ..., debug: _Optional[bool] = ..., request_id: _Optional[str] = ..., is_bottom_request: _Optional[bool] = ...) -> None: ...

class ActionTerm(_message.Message):
    __slots__ = ("action", "probability", "weight", "contribution")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    action: str
    probability: float
    weight: float
    contribution: float
    def __init__(self, action: _Optional[str] = ..., probability: _Optional[float] = ..., weight: _Optional[float] = ..., contribution: _Optional[float] = ...) -> None: ...

class ScoreExplanation(_message.Message):
    __slots__ = ("terms", "positive_sum", "negative_sum", "weighted_score", "cold_start_score", "author_diversity_multiplier", "oon_multiplier", "other_multipliers", "final_score", "scored", "note", "predicted_dwell_sec")
    class OtherMultipliersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TERMS_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_SUM_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_SUM_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_SCORE_FIELD_NUMBER: _ClassVar[int]
    COLD_START_SCORE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_DIVERSITY_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    OON_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    OTHER_MULTIPLIERS_FIELD_NUMBER: _ClassVar[int]
    FINAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORED_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_DWELL_SEC_FIELD_NUMBER: _ClassVar[int]
    terms: _containers.RepeatedCompositeFieldContainer[ActionTerm]
    positive_sum: float
    negative_sum: float
    weighted_score: float
    cold_start_score: float
    author_diversity_multiplier: float
    oon_multiplier: float
    other_multipliers: _containers.ScalarMap[str, float]
    final_score: float
    scored: bool
    note: str
    predicted_dwell_sec: float
    def __init__(self, terms: _Optional[_Iterable[_Union[ActionTerm, _Mapping]]] = ..., positive_sum: _Optional[float] = ..., negative_sum: _Optional[float] = ..., weighted_score: _Optional[float] = ..., cold_start_score: _Optional[float] = ..., author_diversity_multiplier: _Optional[float] = ..., oon_multiplier: _Optional[float] = ..., other_multipliers: _Optional[_Mapping[str, float]] = ..., final_score: _Optional[float] = ..., scored: _Optional[bool] = ..., note: _Optional[str] = ..., predicted_dwell_sec: _Optional[float] = ...) -> None: ...

class ScoredPost(_message.Message):
    __slots__ = ("tweet_id", "author_id", "retweeted_tweet_id", "retweeted_user_id", "in_reply_to_tweet_id", "score", "in_network", "served_type", "last_scored_timestamp_ms", "prediction_request_id", "ancestors", "quoted_user_id", "visibility_reason", "tweet_text", "predicted_dwell_sec", "conversation_id", "created_at", "explanation")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    IN_NETWORK_FIELD_NUMBER: _ClassVar[int]
    SERVED_TYPE_FIELD_NUMBER: _ClassVar[int]
    LAST_SCORED_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ANCESTORS_FIELD_NUMBER: _ClassVar[int]
    QUOTED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_REASON_FIELD_NUMBER: _ClassVar[int]
    TWEET_TEXT_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_DWELL_SEC_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    author_id: int
    retweeted_tweet_id: int
    retweeted_user_id: int
    in_reply_to_tweet_id: int
    score: float
    in_network: bool
    served_type: _recsys_pb2.ServedType
    last_scored_timestamp_ms: int
    prediction_request_id: str
    ancestors: _containers.RepeatedScalarFieldContainer[int]
    quoted_user_id: int
    visibility_reason: str
    tweet_text: str
    predicted_dwell_sec: float
    conversation_id: int
    created_at: int
    explanation: ScoreExplanation
    def __init__(self, tweet_id: _Optional[int] = ..., author_id: _Optional[int] = ..., retweeted_tweet_id: _Optional[int] = ..., retweeted_user_id: _Optional[int] = ..., in_reply_to_tweet_id: _Optional[int] = ..., score: _Optional[float] = ..., in_network: _Optional[bool] = ..., served_type: _Optional[_Union[_recsys_pb2.ServedType, str]] = ..., last_scored_timestamp_ms: _Optional[int] = ..., prediction_request_id: _Optional[str] = ..., ancestors: _Optional[_Iterable[int]] = ..., quoted_user_id: _Optional[int] = ..., visibility_reason: _Optional[str] = ..., tweet_text: _Optional[str] = ..., predicted_dwell_sec: _Optional[float] = ..., conversation_id: _Optional[int] = ..., created_at: _Optional[int] = ..., explanation: _Optional[_Union[ScoreExplanation, _Mapping]] = ...) -> None: ...

class RemovedCandidate(_message.Message):
    __slots__ = ("tweet_id", "author_id", "removed_by", "reason", "served_type")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    REMOVED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SERVED_TYPE_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    author_id: int
    removed_by: str
    reason: str
    served_type: _recsys_pb2.ServedType
    def __init__(self, tweet_id: _Optional[int] = ..., author_id: _Optional[int] = ..., removed_by: _Optional[str] = ..., reason: _Optional[str] = ..., served_type: _Optional[_Union[_recsys_pb2.ServedType, str]] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("stage", "kind", "status", "latency_ms", "kept", "removed")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    stage: str
    kind: str
    status: str
    latency_ms: float
    kept: int
    removed: int
    def __init__(self, stage: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., latency_ms: _Optional[float] = ..., kept: _Optional[int] = ..., removed: _Optional[int] = ...) -> None: ...

class ForYouFeedResponse(_message.Message):
    __slots__ = ("posts", "request_id", "model_version", "degraded", "removed", "stages", "retrieved_count")
    POSTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    RETRIEVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    posts: _containers.RepeatedCompositeFieldContainer[ScoredPost]
    request_id: str
    model_version: str
    degraded: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedCompositeFieldContainer[RemovedCandidate]
    stages: _containers.RepeatedCompositeFieldContainer[StageTiming]
    retrieved_count: int
    def __init__(self, posts: _Optional[_Iterable[_Union[ScoredPost, _Mapping]]] = ..., request_id: _Optional[str] = ..., model_version: _Optional[str] = ..., degraded: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[_Union[RemovedCandidate, _Mapping]]] = ..., stages: _Optional[_Iterable[_Union[StageTiming, _Mapping]]] = ..., retrieved_count: _Optional[int] = ...) -> None: ...
