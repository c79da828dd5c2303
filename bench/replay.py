"""``python -m bench replay [--quick] [--record]``: offline replay throughput and headline quality.

Replays the synthetic tiny world (models trained on the first half) through the default For You
config and the four baselines. ``requests_per_s`` counts request points per second of serving
time, where one request point runs EVERY configuration (so it is the replay's own throughput,
not one pipeline's); ``pipeline_vs_chronological_cost`` compares the For You pipeline's serving
time with the chronological baseline's, measured in the same run. Headline metrics are NDCG@35 (logged) and oracle utility (true) per strategy.
"""

from __future__ import annotations

import argparse
import logging
import time

from bench.record import emit


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench replay")
    parser.add_argument("--quick", action="store_true", help="a few requests, barely trained models (< 60 s)")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # stage timeouts etc. are counted in the result instead

    from home_mixer.replay.driver import ReplaySettings, run_replay
    from home_mixer.replay.event_sources import world_source
    from home_mixer.replay.models import TrainingBudget
    from home_mixer.replay.summary import summarize

    requests = args.requests or (8 if args.quick else 120)
    budget = (TrainingBudget(ranker_epochs=1, ranker_max_steps=10, retrieval_epochs=1, progress=False) if args.quick
              else TrainingBudget(ranker_epochs=3, ranker_max_steps=600, retrieval_epochs=8, progress=False))
    started = time.perf_counter()
    run = run_replay(world_source("tiny", 0), ReplaySettings(
        max_requests=requests, budget=budget, progress=False, ranker_eval_examples=0 if args.quick else 500))
    summary = summarize(run)
    m = summary["metrics"]
    result = {
        "preset": "tiny",
        "quick": args.quick,
        "requests": summary["requests"],
        "strategies": run.strategies,
        "requests_per_s": round(summary["requests"] / max(run.timings_s["serve"], 1e-9), 3),
        "timings_s": {k: round(v, 2) for k, v in run.timings_s.items()},
        "pipeline_vs_chronological_cost": round(run.timings_s.get("serve:for_you", 0.0)
                                                / max(run.timings_s.get("serve:chronological", 0.0), 1e-9), 1),
        "wall_s": round(time.perf_counter() - started, 2),
        "ndcg@35": {s: m[s].get("ndcg@35", {}).get("mean") for s in run.strategies},
        "oracle_utility": {s: m[s].get("oracle_utility", {}).get("mean") for s in run.strategies},
        "quality_target": summary["quality_target"],
        "stage_failures": run.stage_failures,
    }
    emit("replay" + ("_quick" if args.quick else ""), result, record=args.record)
    return 0
