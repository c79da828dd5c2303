"""Declarative pipeline descriptions: which stages, in which order, with which parameters.

A pipeline is data (DESIGN.md §5): a YAML/JSON file names registered stages, so a user adds
a scorer by editing configuration, and replay evaluation can compare two specs side by
side. :func:`build_pipeline` turns a validated :class:`PipelineSpec` into a
:class:`~candidate_pipeline.pipeline.CandidatePipeline` using a stage registry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from candidate_pipeline.pipeline import DEFAULT_RESULT_SIZE, DEFAULT_STAGE_TIMEOUT_S, CandidatePipeline
from candidate_pipeline.registry import StageFactory

# Which method each list's stages must provide: catches "a filter listed under scorers"
# at build time rather than as a per-request error.
_REQUIRED_METHOD = {
    "query_hydrators": "hydrate",
    "dependent_query_hydrators": "hydrate",
    "sources": "get_candidates",
    "hydrators": "hydrate",
    "filters": "filter",
    "scorers": "score",
    "selector": "select",
    "post_selection_hydrators": "hydrate",
    "post_selection_filters": "filter",
    "side_effects": "run",
}
_STAGE_LISTS = tuple(k for k in _REQUIRED_METHOD if k != "selector")


class PipelineSpecError(Exception):
    """The spec names an unknown stage, a factory failed, or a built stage has the wrong shape."""


class StageSpec(BaseModel):
    """One stage: its registered name, factory parameters, on/off switch and timeout.

    In YAML a bare string is shorthand for ``{name: <string>}``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    timeout_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _from_bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class PipelineSpec(BaseModel):
    """A whole pipeline; list order is execution/merge order, exactly as in X."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    query_hydrators: list[StageSpec] = Field(default_factory=list)
    dependent_query_hydrators: list[StageSpec] = Field(default_factory=list)
    sources: list[StageSpec] = Field(default_factory=list)
    hydrators: list[StageSpec] = Field(default_factory=list)
    filters: list[StageSpec] = Field(default_factory=list)
    scorers: list[StageSpec] = Field(default_factory=list)
    selector: StageSpec | None = None
    post_selection_hydrators: list[StageSpec] = Field(default_factory=list)
    post_selection_filters: list[StageSpec] = Field(default_factory=list)
    side_effects: list[StageSpec] = Field(default_factory=list)
    result_size: int = Field(default=DEFAULT_RESULT_SIZE, ge=0)
    default_stage_timeout_s: float = Field(default=DEFAULT_STAGE_TIMEOUT_S, gt=0)


def load_pipeline_spec(path: str | Path) -> PipelineSpec:
    """Read a spec from ``.json`` (JSON) or anything else (YAML, a superset of JSON)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise PipelineSpecError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return PipelineSpec.model_validate(data)


def _build_stage(section: str, spec: StageSpec, registry: Mapping[str, StageFactory], deps: Any) -> Any:
    """Instantiate one enabled stage and apply the spec's timeout to it."""
    factory: Callable[..., Any] | None = registry.get(spec.name)
    if factory is None:
        known = ", ".join(sorted(registry)) or "(none registered)"
        raise PipelineSpecError(f"unknown stage {spec.name!r} in {section}; known stages: {known}")
    try:
        stage = factory(deps, **spec.params)
    except Exception as exc:
        raise PipelineSpecError(
            f"building {section} stage {spec.name!r} with params {spec.params!r} failed: {exc!r}"
        ) from exc
    method = _REQUIRED_METHOD[section]
    if not callable(getattr(stage, method, None)) or not callable(getattr(stage, "enable", None)):
        raise PipelineSpecError(
            f"stage {spec.name!r} listed under {section} must provide {method}() and enable(); "
            f"got {type(stage).__name__}"
        )
    if spec.timeout_s is not None:
        try:
            stage.timeout_s = spec.timeout_s
        except AttributeError as exc:
            raise PipelineSpecError(f"stage {spec.name!r} does not accept a timeout_s override") from exc
    return stage


def build_pipeline(
    spec: PipelineSpec, registry: Mapping[str, StageFactory], deps: Any = None
) -> CandidatePipeline[Any, Any]:
    """Build the pipeline a spec describes; stages with ``enabled: false`` are not built at all."""
    built: dict[str, Any] = {
        section: [_build_stage(section, s, registry, deps) for s in getattr(spec, section) if s.enabled]
        for section in _STAGE_LISTS
    }
    selector = spec.selector
    return CandidatePipeline(
        name=spec.name,
        selector=_build_stage("selector", selector, registry, deps)
        if selector and selector.enabled
        else None,
        result_size=spec.result_size,
        default_stage_timeout_s=spec.default_stage_timeout_s,
        **built,
    )
