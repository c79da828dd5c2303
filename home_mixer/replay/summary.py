"""From per-request records to means with paired bootstrap intervals, deltas and slices.

Every configuration answered the same request points, so one set of bootstrap resamples of the
request indices is shared by all of them (see ``bootstrap.py``): deltas between configurations
get paired intervals. Ranking metrics average over the requests where the metric is defined for
every configuration (logged: >= 1 engaged post; counterfactual: a union with a non-zero ideal, or
>= 1 sampled engagement), the same subset for every configuration; list metrics over all requests.

The quality target is checked under both protocols. On the synthetic world the PRIMARY one is the
counterfactual ``oracle_ndcg@35`` (free of logging-policy bias, see ``counterfactual.py``); the
logged ``ndcg@35`` is kept as the secondary one (and is the only one on real logs).
"""

from __future__ import annotations

import math

import numpy as np

from home_mixer.replay.bootstrap import bootstrap_indices, delta_interval, mean_interval
from home_mixer.replay.counterfactual import counterfactual_metric_names
from home_mixer.replay.driver import ReplayRun
from home_mixer.replay.request_metrics import (
    AGE_BUCKETS,
    HISTORY_BUCKETS,
    LIST_METRICS,
    ORACLE_METRIC,
    RANKING_METRICS,
)

RESAMPLES = 1000
TARGET_RATIO = 1.5


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def _interval_dict(values: np.ndarray, idx: np.ndarray) -> dict:
    i = mean_interval(values, idx)
    return {"mean": _clean(i.mean), "low": _clean(i.low), "high": _clean(i.high), "n": int(len(values))}


PRIMARY_ORACLE_METRIC = "oracle_ndcg@35"
LOGGED_METRIC = "ndcg@35"


def metric_names(run: ReplayRun) -> list[str]:
    oracle = counterfactual_metric_names() + [ORACLE_METRIC] if run.has_oracle else []
    return oracle + list(RANKING_METRICS) + list(LIST_METRICS)


def ranking_metric(metric: str) -> bool:
    return metric in RANKING_METRICS or metric in counterfactual_metric_names()


def defined_rows(run: ReplayRun, metric: str) -> list[int]:
    """Requests where ``metric`` is defined (not NaN) for every configuration."""
    return [r for r, rec in enumerate(run.requests)
            if all(not math.isnan(rec.metrics[s][metric]) for s in run.strategies)]


def _column(run: ReplayRun, strategy: str, metric: str, rows: list[int]) -> np.ndarray:
    return np.array([run.requests[r].metrics[strategy][metric] for r in rows], np.float64)


def summarize(run: ReplayRun, seed: int | None = None) -> dict:
    seed = run.settings.seed if seed is None else seed
    n = len(run.requests)
    all_rows = list(range(n))
    engaged_rows = [r for r in all_rows if run.requests[r].engaged > 0]
    metrics: dict[str, dict[str, dict]] = {s: {} for s in run.strategies}
    deltas: dict[str, dict[str, dict]] = {}
    reference = run.strategies[0]
    for metric in metric_names(run):
        rows = defined_rows(run, metric) if ranking_metric(metric) else all_rows
        if not rows:
            continue
        idx = bootstrap_indices(len(rows), RESAMPLES, seed)
        ref = _column(run, reference, metric, rows)
        for s in run.strategies:
            col = _column(run, s, metric, rows)
            metrics[s][metric] = _interval_dict(col, idx)
            if s != reference:
                d = delta_interval(col, ref, idx)  # reference - s
                deltas.setdefault(s, {})[metric] = {"delta": _clean(d.mean), "low": _clean(d.low),
                                                    "high": _clean(d.high)}
    targets = {m: quality_target(run, m, seed) for m in _target_metrics(run)}
    targets = {m: t for m, t in targets.items() if t is not None}
    pipelines = [s for s in run.strategies if run.strategy_kinds[s] == "pipeline"]
    every_pipeline = {m: [quality_target(run, m, seed, p) for p in pipelines] for m in targets}
    return {
        "requests": n,
        "requests_with_engagement": len(engaged_rows),
        "reference": reference,
        "metrics": metrics,
        "deltas_vs_reference": deltas,
        "slices": {"history_length": _history_slices(run), "post_age_recall@35": _age_slices(run)},
        "quality_target": next(iter(targets.values()), None),  # the primary protocol's
        "quality_targets": targets,
        "quality_targets_every_pipeline": every_pipeline,  # the same test for each pipeline configuration
    }


def _target_metrics(run: ReplayRun) -> list[str]:
    return [PRIMARY_ORACLE_METRIC, LOGGED_METRIC] if run.has_oracle else [LOGGED_METRIC]


def _history_slices(run: ReplayRun) -> dict:
    out: dict[str, dict] = {}
    for bucket, _ in HISTORY_BUCKETS:
        rows = [r for r, rec in enumerate(run.requests) if rec.history_bucket == bucket and rec.engaged > 0]
        if not rows:
            continue
        out[bucket] = {"requests": len(rows), **{
            s: {m: _clean(float(np.mean(_column(run, s, m, rows)))) for m in ("ndcg@35", "hr@35")}
            for s in run.strategies}}
        if run.has_oracle:
            all_rows = [r for r, rec in enumerate(run.requests) if rec.history_bucket == bucket]
            for s in run.strategies:
                out[bucket][s][ORACLE_METRIC] = _clean(float(np.mean(_column(run, s, ORACLE_METRIC, all_rows))))
    return out


def _age_slices(run: ReplayRun) -> dict:
    out: dict[str, dict] = {}
    for bucket, _ in AGE_BUCKETS:
        row: dict = {}
        for s in run.strategies:
            vals = np.array([rec.recall_by_age[s][bucket] for rec in run.requests], np.float64)
            vals = vals[~np.isnan(vals)]
            row[s] = _clean(float(vals.mean())) if len(vals) else None
            row["requests"] = int(len(vals))
        out[bucket] = row
    return out


def quality_target(run: ReplayRun, metric: str, seed: int, pipeline: str | None = None) -> dict | None:
    """The issue's target on ``metric``: the pipeline (default: the first) >= 1.5 x chronological
    and > popularity, with paired bootstrap intervals of the ratio and of the difference to popularity."""
    pipelines = [s for s in run.strategies if run.strategy_kinds[s] == "pipeline"]
    rows = defined_rows(run, metric)
    if not pipelines or not rows or "chronological" not in run.strategies:
        return None
    full = pipeline or pipelines[0]
    idx = bootstrap_indices(len(rows), RESAMPLES, seed)
    f = _column(run, full, metric, rows)
    c = _column(run, "chronological", metric, rows)
    ratios = f[idx].mean(1) / np.maximum(c[idx].mean(1), 1e-12)
    protocol = "counterfactual (oracle gains)" if metric in counterfactual_metric_names() else "logged sessions"
    out = {
        "metric": metric,
        "protocol": protocol,
        "requests": len(rows),
        "pipeline": full,
        "value": _clean(f.mean()),
        "chronological": _clean(c.mean()),
        "ratio_vs_chronological": _clean(f.mean() / c.mean()) if c.mean() > 0 else None,
        "ratio_interval": [_clean(float(np.quantile(ratios, 0.025))), _clean(float(np.quantile(ratios, 0.975)))],
        "target_ratio": TARGET_RATIO,
    }
    met = out["ratio_vs_chronological"] is not None and out["ratio_vs_chronological"] >= TARGET_RATIO
    if "popularity" in run.strategies:
        p = _column(run, "popularity", metric, rows)
        d = delta_interval(p, f, idx)
        out["popularity"] = _clean(p.mean())
        out["delta_vs_popularity"] = {"delta": _clean(d.mean), "low": _clean(d.low), "high": _clean(d.high)}
        met = met and f.mean() > p.mean()
    out["met"] = bool(met)
    # "met" is on the point estimates; "met_at_interval" also asks the lower bounds to clear the bar.
    out["met_at_interval"] = bool(met and out["ratio_interval"][0] >= TARGET_RATIO
                                  and ("delta_vs_popularity" not in out or out["delta_vs_popularity"]["low"] > 0))
    return out
