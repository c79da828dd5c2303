"""Pipeline configs derived from another by overriding WeightedScorer weights, for replays that
compare a weight change with the config it came from (the rest of the pipeline stays identical)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from home_mixer.pipeline_factory import DEFAULT_CONFIG


def with_weights(out_path: str | Path, overrides: Mapping[str, float], base: str | Path = DEFAULT_CONFIG) -> Path:
    """Write ``base`` with the given WeightedScorer weights replaced to ``out_path``; unknown
    weight names are refused (a typo would otherwise silently change nothing)."""
    spec = yaml.safe_load(Path(base).read_text())
    scorer = next((e for e in spec.get("scorers", []) if isinstance(e, dict) and e.get("name") == "WeightedScorer"),
                  None)
    if scorer is None:
        raise ValueError(f"{base} has no WeightedScorer to override weights of")
    weights = scorer.setdefault("params", {}).setdefault("weights", {})
    unknown = sorted(set(overrides) - set(weights))
    if unknown:
        raise ValueError(f"unknown WeightedScorer weights {unknown}; {base} has {sorted(weights)}")
    weights.update({k: float(v) for k, v in overrides.items()})
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return out


def negative_weight_names(base: str | Path = DEFAULT_CONFIG) -> list[str]:
    """The WeightedScorer weights below zero (negative-feedback heads) of a config."""
    spec = yaml.safe_load(Path(base).read_text())
    for e in spec.get("scorers", []):
        if isinstance(e, dict) and e.get("name") == "WeightedScorer":
            return sorted(k for k, v in e.get("params", {}).get("weights", {}).items() if float(v) < 0)
    raise ValueError(f"{base} has no WeightedScorer")
