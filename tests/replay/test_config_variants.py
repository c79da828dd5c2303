"""Derived pipeline configs: only the named weights change, typos are refused, the result builds."""

from __future__ import annotations

import pytest
import yaml

from home_mixer.pipeline_factory import DEFAULT_CONFIG, load_pipeline_spec
from home_mixer.replay.config_variants import negative_weight_names, with_weights
from home_mixer.replay.request_metrics import default_weights


def test_negative_weights_zeroed_and_rest_unchanged(tmp_path) -> None:
    negatives = negative_weight_names()
    assert {"not_interested", "block_author", "mute_author", "report"} <= set(negatives)
    path = with_weights(tmp_path / "v.yaml", dict.fromkeys(negatives, 0.0))
    base, derived = default_weights(), default_weights(path)
    assert all(derived[k] == 0.0 for k in negatives)
    assert {k: v for k, v in derived.items() if k not in negatives} == {
        k: v for k, v in base.items() if k not in negatives}
    base_spec, spec = (yaml.safe_load(p.read_text()) for p in (DEFAULT_CONFIG, path))
    assert [s if isinstance(s, str) else s["name"] for s in spec["scorers"]] == [
        s if isinstance(s, str) else s["name"] for s in base_spec["scorers"]]
    assert load_pipeline_spec(path) != load_pipeline_spec(DEFAULT_CONFIG)  # a valid spec, with other weights


def test_unknown_weight_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown WeightedScorer weights"):
        with_weights(tmp_path / "v.yaml", {"favourite": 1.0})
