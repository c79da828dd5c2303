"""The whole replay on the tiny synthetic world: real stages, real in-process models and stores.

Models are trained once per module with a minimal budget (the replay is under test, not the
models); both replays reuse them, and the CLI loads them back from checkpoints.
"""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from home_mixer.replay.driver import ReplaySettings, run_replay
from home_mixer.replay.event_sources import world_source
from home_mixer.replay.models import TrainingBudget, TrainingData, train_ranker, train_retrieval
from home_mixer.replay.sessions import scan_sessions
from home_mixer.replay.summary import summarize
from infra.snowflake import snowflake_timestamp_ms
from phoenix.ranker.config import small_config

pytestmark = pytest.mark.slow
REQUESTS = 2


@pytest.fixture(scope="module")
def world_and_models():
    logging.disable(logging.WARNING)
    source = world_source("tiny", 0)
    scan = scan_sessions(source.stream())
    split = scan.first_ms + (scan.last_ms - scan.first_ms) // 2
    data = TrainingData.collect(source.stream(), split)
    budget = TrainingBudget(ranker_epochs=1, ranker_max_steps=2, retrieval_epochs=1, progress=False)
    engine, _, _ = train_ranker(data, 0, budget, small_config(history_len=32, max_candidates=512))
    model, version, _ = train_retrieval(data, 0, budget)
    yield source, engine, (model, version)
    logging.disable(logging.NOTSET)


def settings(engine, retrieval) -> ReplaySettings:
    return ReplaySettings(max_requests=REQUESTS, progress=False, ranker_eval_examples=20,
                          ranker_engine=engine, retrieval_model=retrieval, oracle_ranker=True)


def test_replay_is_deterministic_and_never_serves_the_future(world_and_models) -> None:
    source, engine, retrieval = world_and_models
    first = run_replay(source, settings(engine, retrieval))
    second = run_replay(source, settings(engine, retrieval))
    assert first.strategies == ["for_you", "for_you+oracle_ranker", "chronological", "popularity", "random",
                                "retrieval"]
    assert len(first.requests) == REQUESTS
    assert [r.served for r in first.requests] == [r.served for r in second.requests]
    assert summarize(first) == summarize(second)
    oracle_metrics = ("oracle_ndcg@10", "oracle_ndcg@35", "sampled_ndcg@35", "oracle_utility")
    counterfactual = [[rec.metrics[s][m] for s in first.strategies for m in oracle_metrics] for rec in first.requests]
    assert json.dumps(counterfactual) == json.dumps(  # identical across runs, NaN included
        [[rec.metrics[s][m] for s in second.strategies for m in oracle_metrics] for rec in second.requests])
    for rec in first.requests:  # one shared ideal per request: nobody beats it
        assert all(0.0 <= rec.metrics[s]["oracle_ndcg@35"] <= 1.0 + 1e-9 for s in first.strategies)
    served_any = 0
    for rec in first.requests:
        assert rec.now_ms >= first.split_ms
        for ids in rec.served.values():
            served_any += len(ids)
            assert all(snowflake_timestamp_ms(p) < rec.now_ms for p in ids)  # no post from the future
    assert served_any > 0 and len(first.requests[0].served["for_you"]) > 0
    s = summarize(first)
    assert s["metrics"]["chronological"]["in_network_share"]["mean"] == pytest.approx(1.0)
    assert "oracle_utility" in s["metrics"]["for_you"] and s["quality_target"]["pipeline"] == "for_you"
    assert list(s["quality_targets"]) == ["oracle_ndcg@35", "ndcg@35"]  # primary protocol first
    assert s["quality_target"]["protocol"].startswith("counterfactual")
    assert s["quality_target"]["requests"] == REQUESTS
    every = s["quality_targets_every_pipeline"]["oracle_ndcg@35"]
    assert [t["pipeline"] for t in every] == ["for_you", "for_you+oracle_ranker"] and every[0] == s["quality_target"]
    assert first.ranker_eval is not None and first.ranker_eval["examples"] > 0


def test_cli_smoke_with_checkpoints(world_and_models, tmp_path) -> None:
    from infra.cli import app
    from phoenix.ranker.train import save_ranker
    from phoenix.retrieval.checkpoints import save_model

    source, engine, (model, _) = world_and_models
    save_ranker(engine.model, tmp_path / "ranker")
    save_model(tmp_path / "retrieval", model)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "replay", "--world", "tiny", "--max-requests", "1", "--out", str(out), "--no-progress",
        "--ranker-checkpoint", str(tmp_path / "ranker"), "--retrieval-checkpoint", str(tmp_path / "retrieval"),
        "--baselines", "chronological,popularity"])
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "replay.json").read_text())
    assert payload["strategies"] == ["for_you", "chronological", "popularity"]
    assert (out / "report.md").read_text().startswith("# Replay evaluation")
    assert (out / "metrics.png").stat().st_size > 0


def test_cli_rejects_bad_input(tmp_path) -> None:
    from infra.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["replay", "--out", str(tmp_path)]).exit_code != 0  # no source
    bad = runner.invoke(app, ["replay", "--world", "tiny", "--config", "nopath", "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "NAME=PATH" in bad.output
    missing = runner.invoke(app, ["replay", "--log", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "does not exist" in missing.output
