"""The example plugin, really installed (into a temporary target dir, not the shared venv) and
found through entry-point discovery, then used from a pipeline config by name."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from candidate_pipeline import StageRegistry
from home_mixer.models import FeedQuery
from home_mixer.pipeline_factory import DEFAULT_CONFIG, build_for_you_pipeline
from tests.home_mixer.fakes import NOW_MS
from tests.home_mixer.test_pipeline import VIEWER, make_deps, make_world

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "examples" / "topic_boost_plugin"


@pytest.fixture(scope="session")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("plugin_site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(PLUGIN_DIR)],
        check=True, capture_output=True, timeout=120,
    )
    sys.path.insert(0, str(target))
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for mod in [m for m in sys.modules if m.startswith("topic_boost_plugin")]:
            del sys.modules[mod]


def test_plugin_is_discovered_next_to_the_builtin_stages(installed_plugin: Path) -> None:
    registry = StageRegistry.from_entry_points()
    assert "TopicBoostScorer" in registry and "WeightedScorer" in registry
    assert "foryou-topic-boost" in registry.origin("TopicBoostScorer")


def test_plugin_named_in_config_boosts_and_explains(installed_plugin: Path, tmp_path: Path) -> None:
    world = make_world()
    for pid in list(world.posts)[::2]:
        world.posts[pid].topic_id = 7
    spec = yaml.safe_load(DEFAULT_CONFIG.read_text())
    spec["scorers"].insert(5, {"name": "TopicBoostScorer", "params": {"topic_ids": [7], "boost": 3.0}})
    config = tmp_path / "with_plugin.yaml"
    config.write_text(yaml.safe_dump(spec))
    deps, _, _ = make_deps(world)
    pipeline = build_for_you_pipeline(deps, config)
    res = asyncio.run(pipeline.execute(FeedQuery(viewer_id=VIEWER, now_ms=NOW_MS, debug=True)))
    boosted = [c for c in res.selected if c.topic_id == 7]
    plain = [c for c in res.selected if c.topic_id != 7]
    assert boosted and all(c.explanation.other_multipliers == {"topic_boost": 3.0} for c in boosted)
    assert all("topic_boost" not in c.explanation.other_multipliers for c in plain)
    e = boosted[0].explanation
    assert boosted[0].score == pytest.approx(
        e.cold_start_score * e.author_diversity_multiplier * e.oon_multiplier * 3.0)
