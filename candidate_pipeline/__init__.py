"""candidate_pipeline: the framework the For You pipeline is built on.

A Python/asyncio re-implementation of xai-org/x-algorithm's ``candidate-pipeline`` crate:
one protocol per stage kind, an executor with X's concurrency/ordering/isolation rules,
per-stage stats and Prometheus metrics, entry-point plugin discovery and declarative specs.
"""

from candidate_pipeline.columns import Columns
from candidate_pipeline.filter import Filter, FilterResult, Removed
from candidate_pipeline.hydrator import Hydrator
from candidate_pipeline.pipeline import DEFAULT_RESULT_SIZE, DEFAULT_STAGE_TIMEOUT_S, CandidatePipeline
from candidate_pipeline.query_hydrator import QueryHydrator
from candidate_pipeline.registry import (
    ENTRY_POINT_GROUP,
    StageFactory,
    StageRegistry,
    StageRegistryError,
    load_stage_registry,
)
from candidate_pipeline.result import PipelineResult
from candidate_pipeline.scorer import Scorer
from candidate_pipeline.selector import Selector, SelectResult, TopKScoreSelector
from candidate_pipeline.side_effect import SideEffect, SideEffectInput
from candidate_pipeline.source import Source
from candidate_pipeline.spec import (
    PipelineSpec,
    PipelineSpecError,
    StageSpec,
    build_pipeline,
    load_pipeline_spec,
)
from candidate_pipeline.stage import BaseStage, Stage
from candidate_pipeline.stats import PipelineStats, StageKind, StageStats, StageStatus

__all__ = [
    "DEFAULT_RESULT_SIZE",
    "DEFAULT_STAGE_TIMEOUT_S",
    "ENTRY_POINT_GROUP",
    "BaseStage",
    "CandidatePipeline",
    "Columns",
    "Filter",
    "FilterResult",
    "Hydrator",
    "PipelineResult",
    "PipelineSpec",
    "PipelineSpecError",
    "PipelineStats",
    "QueryHydrator",
    "Removed",
    "Scorer",
    "SelectResult",
    "Selector",
    "SideEffect",
    "SideEffectInput",
    "Source",
    "Stage",
    "StageFactory",
    "StageKind",
    "StageRegistry",
    "StageRegistryError",
    "StageSpec",
    "StageStats",
    "StageStatus",
    "TopKScoreSelector",
    "build_pipeline",
    "load_pipeline_spec",
    "load_stage_registry",
]
