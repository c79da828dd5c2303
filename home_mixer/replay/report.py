"""The replay's outputs: ``replay.json`` (everything, machine-readable), ``report.md`` (protocol
in the header, tables with intervals) and matplotlib plots (metric bars with 95% intervals,
ranker calibration curves, served-score distributions)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from home_mixer.replay.driver import ReplayRun  # noqa: E402
from home_mixer.replay.request_metrics import ORACLE_METRIC  # noqa: E402
from home_mixer.replay.summary import metric_names  # noqa: E402

BAR_METRICS = ("oracle_ndcg@35", "sampled_ndcg@35", "oracle_utility", "ndcg@35", "utility", "author_diversity")


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def protocol_lines(run: ReplayRun) -> list[str]:
    s = run.settings
    lines = []
    if run.has_oracle:
        lines += [
            "* **PRIMARY protocol (synthetic world): counterfactual relevance.** Every configuration's served list "
            "is judged by the world's own truth, not by the logged session: the gain of a served post is the "
            "oracle probability that the viewer takes at least one positive action on it (favorite, reply, "
            "repost, quote, click, profile click, photo expand, video view, shares, copy link, follow; the same "
            "definition as the logged protocol's \"engaged\"), at request time, with the viewer's follow state "
            "then, at the top of the feed (the NDCG discount is the position model). "
            "`oracle_ndcg@K` = DCG of the served gains / ideal DCG, where the ideal is the top K gains of the UNION "
            "of the posts ALL configurations served at that request (one ideal per request, shared, so "
            "configurations are comparable; not every eligible post in the store). `sampled_ndcg@35` draws one "
            "engagement per (request, post) from its gain with a generator seeded by (seed, request, post), the "
            "same outcome whichever configuration served the post, and scores binary NDCG against the union's "
            "sampled positives. Neither depends on what the logging policy happened to show.",
            "* **Secondary protocol: logged sessions.** `ndcg@K`, `hr@K`, `recall@35`, `mrr`, `utility` score the "
            "served list against the posts the viewer actually engaged with in the logged session.",
        ]
    lines += [
        f"* **Data:** {run.source_description}.",
        f"* **Split:** models see only events before {_iso(run.split_ms)} UTC ({s.train_fraction:.0%} of the log's "
        f"time span); {len(run.requests)} request points sampled uniformly (seed {s.seed}) from the "
        f"{run.sessions_total} sessions' For You sessions after it ({_iso(run.window_ms[0])} .. {_iso(run.window_ms[1])}).",
        "* **Request point:** the start of a session (first impression of a request_id) or a logged `served` event; "
        "state holds only events strictly older than it (no future leakage).",
        "* **Serving:** every configuration runs the SAME stage code as serving (in-process Thunder store, ranker "
        "engine, FAISS retrieval index, in-memory user state), each with its own served history; result size 35.",
        "* **Logged relevance:** posts the viewer took a positive action on in that session (not impressions, dwell "
        "or negative feedback). Logged ranking metrics average over requests with >= 1 engaged post.",
        "* **Logging-policy bias (logged protocol):** only posts the logging policy showed can be engaged, so logged "
        "metrics favour configurations that serve what the logger showed (`shown_overlap`)"
        + ("; on this world half of each logged session is random recent in-network posts, which favours "
           "chronological even for a perfect model." if run.has_oracle else "."),
    ]
    if run.has_oracle:
        lines.append("* **Oracle utility:** sum over the served list of the world's TRUE action probabilities x the "
                     "default weights, at each post's served position (counterfactual, no logging bias).")
    lines.append("* **Intervals:** 95% percentile bootstrap over requests (1000 resamples), paired across "
                 "configurations for deltas and ratios.")
    lines += [f"* **Models:** {n}" for n in run.notes]
    return lines


def write_report(run: ReplayRun, summary: dict, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "source": run.source,
        "source_description": run.source_description,
        "protocol": protocol_lines(run),
        "settings": {"configs": [list(c) for c in run.settings.configs], "baselines": list(run.settings.baselines),
                     "seed": run.settings.seed, "max_requests": run.settings.max_requests,
                     "train_fraction": run.settings.train_fraction},
        "strategies": run.strategies,
        "model_versions": run.model_versions,
        "stage_failures": run.stage_failures,
        "events_replayed": run.events_replayed,
        "timings_s": {k: round(v, 3) for k, v in run.timings_s.items()},
        "summary": summary,
        "ranker_eval": run.ranker_eval,
    }
    paths = {"json": out / "replay.json"}
    paths["json"].write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    paths["metrics_png"] = _plot_metrics(run, summary, out / "metrics.png")
    paths["scores_png"] = _plot_scores(run, out / "scores.png")
    if run.ranker_eval and run.ranker_eval.get("calibration"):
        paths["calibration_png"] = _plot_calibration(run.ranker_eval["calibration"], out / "calibration.png")
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(_markdown(run, summary, paths))
    return paths


def _plot_metrics(run: ReplayRun, summary: dict, path: Path) -> Path:
    metrics = [m for m in BAR_METRICS if m in metric_names(run)]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.4))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics, strict=True):
        means, lo, hi = [], [], []
        for s in run.strategies:
            v = summary["metrics"][s].get(metric, {})
            m = v.get("mean") or 0.0
            means.append(m)
            lo.append(m - (v.get("low") if v.get("low") is not None else m))
            hi.append((v.get("high") if v.get("high") is not None else m) - m)
        colors = ["tab:blue" if run.strategy_kinds[s] == "pipeline" else "tab:gray" for s in run.strategies]
        ax.bar(range(len(means)), means, yerr=[lo, hi], color=colors, capsize=3)
        ax.set_xticks(range(len(means)), run.strategies, rotation=45, ha="right", fontsize=8)
        ax.set_title(metric, fontsize=10)
    fig.suptitle("replay metrics (95% bootstrap intervals)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _plot_scores(run: ReplayRun, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for s in run.strategies:
        if run.strategy_kinds[s] != "pipeline":
            continue
        vals = np.array([v for rec in run.requests for v in rec.scores.get(s, [])], np.float64)
        vals = vals[np.isfinite(vals)]
        if len(vals):
            ax.hist(vals, bins=40, alpha=0.5, label=s)
    ax.set_xlabel("final score of served posts")
    ax.set_ylabel("posts")
    ax.set_title("served score distribution", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _plot_calibration(calibration: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    top = 0.0
    for action, curve in calibration.items():
        if not curve:
            continue
        x = [b["predicted"] for b in curve]
        y = [b["observed"] for b in curve]
        top = max(top, *x, *y)
        ax.plot(x, y, marker="o", ms=3, label=action)
    ax.plot([0, top or 1], [0, top or 1], "k--", lw=0.8, label="perfect")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title("ranker calibration (replay window)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _protocol_disagreement(summary: dict, targets: dict) -> list[str]:
    """When the counterfactual and logged protocols disagree on the target, say why with this run's numbers."""
    verdicts = [t["met"] for t in targets.values()]
    if len(verdicts) < 2 or verdicts[0] == verdicts[1]:
        return []
    first = next(iter(targets.values()))["pipeline"]
    m = summary["metrics"]

    def share(s: str) -> str:
        return _num((m[s].get("shown_overlap") or {}).get("mean"))

    line = (f"**The protocols disagree:** the target is {'met' if verdicts[0] else 'not met'} under the counterfactual "
            f"protocol and {'met' if verdicts[1] else 'not met'} under the logged one. Logged relevance exists only "
            f"for posts the logging policy showed: the share of the served list it showed is {share(first)} for "
            f"{first} and {share('chronological')} for chronological (`shown_overlap`).")
    oracle = f"{first}+oracle_ranker"
    every = {t["pipeline"]: t for t in (summary.get("quality_targets_every_pipeline") or {}).get("ndcg@35", []) if t}
    if oracle in every and every[oracle]["ratio_vs_chronological"] is not None:
        line += (f" The same pipeline ranking by the world's TRUE probabilities ({oracle}) reaches only "
                 f"{every[oracle]['ratio_vs_chronological']:.3g} x chronological on logged NDCG@35, so the logged "
                 "protocol cannot credit a better ranking of posts the logger never showed.")
    return [line]


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _fmt(v: dict | None) -> str:
    if not v or v.get("mean") is None:
        return "-"
    return f"{v['mean']:.4g} [{v['low']:.4g}, {v['high']:.4g}]"


def _markdown(run: ReplayRun, summary: dict, paths: dict[str, Path]) -> str:
    lines = [f"# Replay evaluation: {run.source}", "", "## Protocol", "", *protocol_lines(run), ""]
    targets = summary.get("quality_targets") or {}
    if targets:
        first = next(iter(targets.values()))["pipeline"]
        lines += ["## Quality target: NDCG@35 >= 1.5 x chronological and > popularity", "",
                  f"The target applies to `{first}` (the first configuration); other pipeline configurations are "
                  "shown for comparison.", "",
                  "| protocol | metric | requests | pipeline | value | chronological | ratio [95%] | popularity "
                  "| pipeline - popularity [95%] | met |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        every = summary.get("quality_targets_every_pipeline") or {m: [t] for m, t in targets.items()}
        for i, metric in enumerate(targets):
            for t in every.get(metric, []):
                if t is None:
                    continue
                d = t.get("delta_vs_popularity")
                lo, hi = t["ratio_interval"]
                met = ("MET" if t["met_at_interval"] else "met (point estimate only)" if t["met"] else "NOT MET")
                name = f"**{t['pipeline']}**" if t["pipeline"] == first else t["pipeline"]
                lines.append(
                    f"| {'primary' if i == 0 else 'secondary'}: {t['protocol']} | {metric} | {t['requests']} | {name} | "
                    f"{_num(t['value'])} | {_num(t['chronological'])} | {_num(t['ratio_vs_chronological'])} "
                    f"[{_num(lo)}, {_num(hi)}] | {_num(t.get('popularity'))} | "
                    + (f"{d['delta']:+.4g} [{d['low']:+.4g}, {d['high']:+.4g}]" if d else "-") + f" | {met} |")
        lines += ["", *_protocol_disagreement(summary, targets), ""]
    names = metric_names(run)
    lines += ["## Metrics (mean [95% interval])", "",
              f"{summary['requests']} requests, {summary['requests_with_engagement']} with an engaged post.", "",
              "| metric | " + " | ".join(run.strategies) + " |", "|---" * (len(run.strategies) + 1) + "|"]
    for m in names:
        lines.append(f"| {m} | " + " | ".join(_fmt(summary["metrics"][s].get(m)) for s in run.strategies) + " |")
    ref = summary["reference"]
    lines += ["", f"## Paired deltas: {ref} minus each configuration", "",
              "| metric | " + " | ".join(s for s in run.strategies if s != ref) + " |",
              "|---" * len(run.strategies) + "|"]
    for m in names:
        cells = []
        for s in run.strategies:
            if s == ref:
                continue
            d = summary["deltas_vs_reference"].get(s, {}).get(m)
            cells.append("-" if not d or d["delta"] is None else f"{d['delta']:+.4g} [{d['low']:+.4g}, {d['high']:+.4g}]")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "![metrics](metrics.png)", "", "## Slices", "", "### By viewer history length (engaged posts before the request)", "",
              "| bucket | requests | " + " | ".join(f"{s} NDCG@35" for s in run.strategies) + " |",
              "|---" * (len(run.strategies) + 2) + "|"]
    for bucket, row in summary["slices"]["history_length"].items():
        lines.append(f"| {bucket} | {row['requests']} | " + " | ".join(
            str(row[s]["ndcg@35"]) for s in run.strategies) + " |")
    lines += ["", "### Recall@35 by age of the engaged post at request time", "",
              "| age | requests | " + " | ".join(run.strategies) + " |", "|---" * (len(run.strategies) + 2) + "|"]
    for bucket, row in summary["slices"]["post_age_recall@35"].items():
        lines.append(f"| {bucket} | {row['requests']} | " + " | ".join(str(row[s]) for s in run.strategies) + " |")
    ev = run.ranker_eval
    if ev and ev.get("actions"):
        lines += ["", "## Ranker on logged impressions of the replay window", "",
                  f"{ev['examples']} examples, {ev['candidates']} candidates (phoenix.ranker.evaluate).", "",
                  "Oracle AUC = the world's truth on the same labels, position-blind (the fair ceiling: the ranker "
                  "never sees the feed position) and with the position term.", "",
                  "| action | positives | AUC | oracle AUC (position-blind) | oracle AUC (with position) | log loss | RCE "
                  "| mean predicted | observed |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for a, m in ev["actions"].items():
            def f(x):
                return "-" if x is None else f"{x:.4g}"
            lines.append(f"| {a} | {m['positives']} | {f(m['auc'])} | {f(m.get('oracle_auc'))} | "
                         f"{f(m.get('oracle_auc_with_position'))} | {f(m['log_loss'])} | "
                         f"{f(m['rce'])} | {f(m['mean_predicted'])} | {f(m['observed_rate'])} |")
        if "calibration_png" in paths:
            lines += ["", "![calibration](calibration.png)"]
    lines += ["", "## Served score distributions", "", "![scores](scores.png)", ""]
    if any(run.stage_failures.values()):
        lines += ["## Stage failures during replay", "", "```", json.dumps(run.stage_failures, indent=1), "```", ""]
    lines += ["## Timings (s)", "", ", ".join(f"{k}: {v:.1f}" for k, v in run.timings_s.items()), ""]
    if ORACLE_METRIC not in names:
        lines += ["(No oracle: the source is not the synthetic world.)", ""]
    return "\n".join(lines)
