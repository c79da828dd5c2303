"""``python -m bench replay [--quick] [--record] [--report DIR]``: offline replay throughput and
headline quality.

Full mode replays the synthetic ``small`` world (2,000 users, 4 days; models trained on the first
half with the Phoenix ranker's recipe: post-id dropout + early stopping) through the default For
You config, the same config with the world's true probabilities as its ranker (the diagnostic
ceiling of the pipeline's rules), the same config with the negative-feedback weights set to 0
(diagnostic: how much the negative weights, up to -234, move the result; before the ranker's heads
started calibrated at their base rates, a small model's noisy rare negative heads times those
weights dominated the score: oracle NDCG@35 0.25 with them vs 0.54 without) and the four baselines; ``--quick`` uses the tiny world, a few requests and barely
trained models (a smoke run, not a quality number). ``requests_per_s`` counts request points per
second of serving time, where one request point runs EVERY configuration (the replay's own
throughput, not one pipeline's); ``pipeline_vs_chronological_cost`` compares the For You
pipeline's serving time with the chronological baseline's in the same run.

Headline quality, per strategy with 95% paired-bootstrap intervals: ``oracle_ndcg@35`` (the
PRIMARY, counterfactual protocol on the synthetic world: gains from the world's truth, no
logging-policy bias), ``sampled_ndcg@35`` and the logged ``ndcg@35`` (secondary); the quality
target under both protocols; and the ranker's per-action AUC next to the oracle's. One torch
thread: on the shared 2-core box that is several times faster than two.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from bench.record import emit

HEADLINE = ("oracle_ndcg@35", "sampled_ndcg@35", "ndcg@35", "oracle_utility")
NO_NEGATIVES = "for_you-no_negative_weights"
AUC_ACTIONS = ("favorite", "reply", "repost", "click", "not_interested")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench replay")
    parser.add_argument("--quick", action="store_true", help="tiny world, a few requests, barely trained models")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--preset", default=None, help="world preset (default: small; tiny with --quick)")
    parser.add_argument("--report", default=None, help="also write the Markdown/PNG report to this folder")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # stage timeouts etc. are counted in the result instead

    import torch

    from home_mixer.replay.driver import ReplaySettings, run_replay
    from home_mixer.replay.event_sources import world_source
    from home_mixer.replay.models import TrainingBudget
    from home_mixer.replay.summary import summarize

    torch.set_num_threads(1)
    preset = args.preset or ("tiny" if args.quick else "small")
    requests = args.requests or (8 if args.quick else 120)
    budget = (TrainingBudget(ranker_epochs=1, ranker_max_steps=10, retrieval_epochs=1, progress=False) if args.quick
              else TrainingBudget(ranker_epochs=3, retrieval_epochs=8, progress=False))
    started = time.perf_counter()
    configs: tuple[tuple[str, str | None], ...] = (("for_you", None),)
    tmp = tempfile.TemporaryDirectory(prefix="bench-replay-")
    if not args.quick:  # diagnostic: the same pipeline without the negative-feedback weights
        from home_mixer.replay.config_variants import negative_weight_names, with_weights

        variant = with_weights(Path(tmp.name) / "no_negative_weights.yaml", dict.fromkeys(negative_weight_names(), 0.0))
        configs += ((NO_NEGATIVES, str(variant)),)
    run = run_replay(world_source(preset, 0), ReplaySettings(
        configs=configs, max_requests=requests, budget=budget, progress=False, ranker_eval_examples=0 if args.quick else 1000,
        oracle_ranker=not args.quick))
    summary = summarize(run)
    if args.report:
        from home_mixer.replay.report import write_report

        write_report(run, summary, args.report)
    tmp.cleanup()
    m = summary["metrics"]
    result = {
        "mode": "quick" if args.quick else "full",
        "preset": preset,
        "requests": summary["requests"],
        "strategies": run.strategies,
        "requests_per_s": round(summary["requests"] / max(run.timings_s["serve"], 1e-9), 3),
        "timings_s": {k: round(v, 2) for k, v in run.timings_s.items()},
        "pipeline_vs_chronological_cost": round(run.timings_s.get("serve:for_you", 0.0)
                                                / max(run.timings_s.get("serve:chronological", 0.0), 1e-9), 1),
        "wall_s": round(time.perf_counter() - started, 2),
        **{metric: {s: m[s].get(metric) for s in run.strategies} for metric in HEADLINE},
        "quality_targets": summary["quality_targets"],
        "ratio_vs_chronological_every_pipeline": {
            metric: {t["pipeline"]: [t["ratio_vs_chronological"], *t["ratio_interval"]] for t in targets if t}
            for metric, targets in summary["quality_targets_every_pipeline"].items()},
        "ranker_auc": _auc(run.ranker_eval),
        "models": run.notes,
        "stage_failures": run.stage_failures,
    }
    emit("replay_quick" if args.quick else "replay", result, record=args.record, command="replay")
    return 0


def _auc(ranker_eval: dict | None) -> dict | None:
    if not ranker_eval or not ranker_eval.get("actions"):
        return None

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 4)

    return {a: {"auc": r(v["auc"]), "oracle_auc": r(v.get("oracle_auc")),
                "oracle_auc_with_position": r(v.get("oracle_auc_with_position")), "positives": v["positives"]}
            for a, v in ranker_eval["actions"].items() if a in AUC_ACTIONS}
