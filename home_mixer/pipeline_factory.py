"""Build the For You pipeline from a declarative config (default: ``configs/default.yaml``).

Stages are looked up in the entry-point registry, so built-in and plugin stages are equal:
naming a plugin's stage in the config is all it takes to use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from candidate_pipeline import (
    CandidatePipeline,
    StageFactory,
    StageRegistry,
    build_pipeline,
    load_pipeline_spec,
)
from home_mixer.deps import Deps

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "default.yaml"


def build_for_you_pipeline(
    deps: Deps, config_path: str | Path | None = None, registry: Mapping[str, StageFactory] | None = None
) -> CandidatePipeline:
    """The pipeline described by ``config_path`` (or the default), wired to ``deps``."""
    spec = load_pipeline_spec(config_path or DEFAULT_CONFIG)
    return build_pipeline(spec, registry if registry is not None else StageRegistry.from_entry_points(), deps)
