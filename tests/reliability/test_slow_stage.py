"""A slow stage at service level: the feed answers within its deadline, the stage is counted as
timed out (stage trace AND the Prometheus counter), and the request is flagged degraded.

The framework part (executor timeouts) is covered by ``tests/candidate_pipeline``; a ranker that
hangs past the whole request deadline by ``tests/home_mixer/service/test_degradation.py``. Here the
real home-mixer runs the default pipeline with only the ranker stage's ``timeout_s`` lowered, so
it is the STAGE timeout (not the client's gRPC deadline, not the request deadline) that fires.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from tests.home_mixer.service.fake_services import FakeRanker
from tests.home_mixer.service.harness import VIEWER, feed_stack

pytestmark = pytest.mark.integration

STAGE_TIMEOUT_S = 0.25
DEADLINE_S = 1.5


def _config_with_slow_ranker_timeout(tmp_path: Path) -> Path:
    import home_mixer

    config = yaml.safe_load((Path(home_mixer.__file__).parent / "configs" / "default.yaml").read_text())
    for entry in config["scorers"]:
        if isinstance(entry, dict) and entry.get("name") == "PhoenixScorer":
            entry["timeout_s"] = STAGE_TIMEOUT_S
    path = tmp_path / "slow_ranker.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _timeouts() -> float:
    return REGISTRY.get_sample_value("candidate_pipeline_stage_timeouts_total", {
        "pipeline": "for_you", "stage_kind": "scorer", "stage": "PhoenixScorer", "status": "timeout"}) or 0.0


def test_a_slow_ranker_stage_is_timed_out_counted_and_the_feed_still_answers(
        kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME_MIXER_CONFIG_PATH", str(_config_with_slow_ranker_timeout(tmp_path)))
    before = _timeouts()

    async def go():
        # the client's gRPC timeout (3 s) and the request deadline are both longer than the stage's
        async with feed_stack(kafka_bootstrap, ranker=FakeRanker(delay_s=5.0), deadline_s=DEADLINE_S,
                              client_timeout_s=3.0) as s:
            started = time.monotonic()
            feed = await s.client.get_feed(VIEWER, debug=True, timeout_s=DEADLINE_S)
            return feed, time.monotonic() - started

    feed, elapsed = asyncio.run(go())
    stages = {t.stage: t for t in feed.stages}
    assert stages["PhoenixScorer"].status == "timeout"
    assert STAGE_TIMEOUT_S <= stages["PhoenixScorer"].latency_ms / 1000 < DEADLINE_S
    assert elapsed < DEADLINE_S
    assert feed.degraded == ["ranker"] and feed.posts, "answered with the fallback order"
    assert _timeouts() == before + 1
