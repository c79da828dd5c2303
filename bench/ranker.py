"""Ranker latency: KV-cached vs full-sequence masked scoring of 1,000 candidates for one user.

Serving config (``RankerConfig()`` defaults): d=128, 4 layers, 4 query / 2 kv heads of 32,
qk-norm, FFN 256, 2 mmh3 hashes per id into 64-wide tables, history 320 (all slots filled),
semantic ids and history-match features, 1,000 candidates, the engine's chunk (1,024: one chunk).
``cpu_p50_ms_1000`` is the whole engine call (hashing and feature building included, from the
candidate columns home-mixer's packed request decodes into) as the ranker server runs it: ``--threads`` torch threads and the server's default chunk workers
(``phoenix.ranker.server.default_workers``: 2 on the 2-core box, each chunk of 500 candidates on
its own thread); ``cpu_p50_ms_1000_by_workers`` gives 1 and that many. ``*_model_ms`` are the
forward passes alone, on the calling thread (the KV ratio compares model work, not threads).

Two full-sequence baselines, measured in the same run:

* ``cpu_full_mask_p50_ms_1000`` - X's serving layout (reference §4.3.1): the full masked sequence
  with ``candidate_seq_len = 64`` candidates, so 1,000 candidates are 16 sequences
  ``[user | 320 history | 64 candidates]``, each recomputing the prefix (run as ONE batch of 16,
  the fastest way to execute that layout). ``kv_speedup`` = this / the KV-cached model time.
* ``cpu_single_sequence_p50_ms_1000`` - one masked sequence holding all 1,000 candidates (the
  prefix computed once, so it shares the per-candidate work with the KV path);
  ``kv_speedup_vs_single_sequence`` = this / the KV-cached model time.

Exact work: ``*_gflop`` are the floating-point operations each path executes (matrix products and
attention, counted by torch's ``FlopCounterMode`` while the path runs; masked attention counts
every query/key pair the kernel computes, as it does). ``kv_flop_ratio`` = X's layout / KV-cached:
the speedup the KV cache would give if both paths ran at the same GFLOP/s (``*_gflop_per_s``).

``kv_speedup_by_history``: the same comparison (model time only, same run, random weights) for
history lengths 128 / 256 / 320 / 384 / 512 / 1022 (X's production ``history_seq_len``, reference §4.3.1);
the KV cache's advantage grows with the history, since X's layout recomputes it 16 times.

Threads: the headline numbers use ``--threads`` (default: the ranker server's own default, half
the cores: 1 on the 2-core box); ``cpu_p50_ms_1000_by_threads`` and ``kv_speedup_by_threads``
repeat the engine call (one worker) and the speedup at 1 and 2 threads.

Paths that are compared are timed round-robin in the same loop (``_interleaved_ms``), so a drift
in the shared host's speed moves both sides of a ratio alike. Numbers come from a shared 2-core
box: the 1-minute load average is reported with them, and ``host_probe_ms`` (a fixed reference
workload, ``bench.host_probe``) at the start and end shows the VM's own speed. On a CUDA
machine it also measures GPU scoring throughput and training throughput.

    python -m bench ranker [--quick] [--record]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from bench.host_probe import host_probe_ms
from bench.record import emit
from infra.snowflake import make_snowflake
from phoenix.ranker.config import RankerConfig
from phoenix.ranker.engine import DEFAULT_CHUNK_SIZE, RankerEngine, ScoreRequest
from phoenix.ranker.examples import Example
from phoenix.ranker.features import (
    CandidateColumns,
    CandidateItem,
    HistoryItem,
    RankerBatch,
    UserContext,
    build_batch,
)
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.server import default_threads, default_workers
from phoenix.ranker.train import TrainConfig, train

NOW = 1_760_000_000_000
X_CANDIDATES_PER_SEQUENCE = 64  # X's candidate_seq_len in serving (reference §4.3.1)
CHUNK = DEFAULT_CHUNK_SIZE  # the engine's candidate chunk
HISTORY_LENGTHS = (128, 256, 320, 384, 512, 1022)  # 1022 = X's production history_seq_len (reference §4.3.1)


def _request(cfg: RankerConfig, n_cands: int, seed: int = 0) -> ScoreRequest:
    """One user with a full history and ``n_cands`` candidates, the candidates as the columns the
    ranker server decodes home-mixer's packed candidates into (``CandidateColumns``)."""
    rnd = random.Random(seed)
    history = [
        HistoryItem(
            make_snowflake(NOW - rnd.randint(10**5, 10**9)),
            rnd.randint(1, 10**6),
            (1, 11),
            rnd.randint(0, 30_000),
            1,
        )
        for _ in range(cfg.history_len)
    ]
    cands = [
        CandidateItem(
            make_snowflake(NOW - rnd.randint(0, 10**8), i), rnd.randint(1, 10**6), 0, rnd.random() < 0.5, 1
        )
        for i in range(n_cands)
    ]
    return ScoreRequest(UserContext(rnd.randint(1, 10**9), history), CandidateColumns.from_items(cands), NOW)


_BEST: dict[str, float] = {}


def x_layout(batch: RankerBatch, per_sequence: int = X_CANDIDATES_PER_SEQUENCE) -> RankerBatch:
    """One user's batch re-laid as X serves it: ceil(C / 64) rows, each the same prefix plus the
    next 64 candidates (the last row padded with invalid candidates)."""
    c = batch.cand_valid.shape[1]
    rows = -(-c // per_sequence)
    pad = rows * per_sequence - c
    fields = {}
    for name, value in vars(batch).items():
        if name.startswith("cand_"):
            padded = torch.cat([value, torch.zeros((1, pad, *value.shape[2:]), dtype=value.dtype)], 1)
            fields[name] = padded.reshape(rows, per_sequence, *value.shape[2:])
        else:
            fields[name] = value.expand(rows, *value.shape[1:]).contiguous()
    return RankerBatch(**fields)


def kv_forward(model: PhoenixRanker, batch: RankerBatch, chunk: int = CHUNK) -> None:
    """The engine's model work for one user: the prefix once, then candidates in chunks."""
    cache = model.encode_prefix(batch)
    for start in range(0, batch.cand_valid.shape[1], chunk):
        model.score_cached(cache, batch.candidates(start, start + chunk))


def _cpu_flash_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    """torch's CPU flash-attention kernel has no entry in the FLOP counter's table: same count as
    its other attention kernels (q·kᵀ and p·v over every query/key pair)."""
    return sdpa_flop_count(query, key, value)


_FLOP_FORMULAS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_flash_flops}


def executed_flops(fn) -> int:
    """Floating-point operations of the matrix products and attention ``fn`` runs (2 per
    multiply-add; element-wise work not counted: it is small and the same per token both ways)."""
    with torch.inference_mode(), FlopCounterMode(display=False, custom_mapping=_FLOP_FORMULAS) as counter:
        fn()
    return counter.get_total_flops()


def _p50_ms(fn, reps: int, name: str = "") -> float:
    """Median wall time; the minimum is kept too (less sensitive to a shared, loaded machine)."""
    return _interleaved_ms({name or "_": fn}, reps)[name or "_"]


def _interleaved_ms(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Median wall time of each of ``fns``, measured round-robin: every round runs each once, in an
    order rotated round to round, so paths whose times are compared (the KV path and a baseline)
    see the same host speed (the shared box's speed drifts by 10-20 % within a minute; timed one
    block after the other, that drift went straight into the ratio). The minimum of each goes to
    ``_BEST``."""
    names = list(fns)
    for name in names:
        fns[name]()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            fns[name]()
            times[name].append((time.perf_counter() - t) * 1000)
    for name in names:
        _BEST[name] = min(times[name])
    return {name: statistics.median(times[name]) for name in names}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ranker")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 60 s)")
    parser.add_argument("--record", action="store_true", help="write bench/results/ranker.json")
    parser.add_argument(
        "--threads", type=int, default=default_threads(), help="torch threads (default: half the cores)"
    )
    parser.add_argument(
        "--quality",
        default="",
        help="also train on this synthetic-world preset and report AUC vs oracle (the documented "
        "setting: small_long, the small world over 8 days)",
    )
    parser.add_argument(
        "--quality-epochs",
        type=int,
        default=2,
        help="max epochs (early stopping keeps the best; on small and small_long the held-out "
        "loss rises after the first or second)",
    )
    args = parser.parse_args(argv)
    load_at_start = os.getloadavg()[0]
    probe_at_start = host_probe_ms()
    reps = 5 if args.quick else 20
    torch.manual_seed(0)
    cfg = RankerConfig()
    model = PhoenixRanker(cfg).eval()
    engine = RankerEngine(model, "bench", "cpu", chunk_size=CHUNK)  # one worker
    workers = default_workers(args.threads)
    served = RankerEngine(model, "bench", "cpu", chunk_size=CHUNK, workers=workers)  # as the server
    req = _request(cfg, 1000)
    batch = build_batch([req.user], [req.candidates], NOW, cfg)
    x_batch = x_layout(batch)
    by_threads, speedup_by_threads = {}, {}
    with torch.inference_mode():
        # The serving default is half the cores (1 here); a thread count changes the ratio too,
        # because the batched baseline gains more from a second thread than the KV path does.
        for n in sorted({1, 2, args.threads}):
            torch.set_num_threads(n)
            by_threads[str(n)] = round(_p50_ms(lambda: engine.score([req]), reps), 2)
            ms = _interleaved_ms({"kv": lambda: kv_forward(model, batch), "full": lambda: model(x_batch)}, reps)
            speedup_by_threads[str(n)] = round(ms["full"] / ms["kv"], 2)
    torch.set_num_threads(args.threads)

    with torch.inference_mode():
        # The headline ratio: the two paths alternated, twice the samples.
        ms = _interleaved_ms(
            {"kv_model": lambda: kv_forward(model, batch), "full": lambda: model(x_batch)}, reps * 2
        )
        kv_model_ms, full_ms = ms["kv_model"], ms["full"]
        by_workers = _interleaved_ms(
            {"1": lambda: engine.score([req]), str(workers): lambda: served.score([req])}, reps
        )
        kv_ms = by_workers[str(workers)]
        _BEST["kv"] = _BEST[str(workers)]
        vs_single = _interleaved_ms(
            {"single": lambda: model(batch), "kv_vs_single": lambda: kv_forward(model, batch)}, reps
        )
        single_ms = vs_single["single"]
        by_chunk = {
            str(c): round(_p50_ms(lambda c=c: kv_forward(model, batch, c), reps), 2) for c in (256, 512)
        }
        by_chunk[str(CHUNK)] = round(kv_model_ms, 2)
        prefix_ms = _p50_ms(lambda: model.encode_prefix(batch), reps)
        full_l, _ = model(batch)
        kv_l, _ = model.score_cached(model.encode_prefix(batch), batch)
        x_l, _ = model(x_batch)
        max_diff = float((full_l - kv_l).abs().max())
        x_diff = float((x_l.reshape(1, -1, x_l.shape[-1])[:, :1000] - kv_l).abs().max())
        four = [_request(cfg, 250, seed=s) for s in range(4)]
        batched_ms = _p50_ms(lambda: served.score(four), max(3, reps // 2))
    kv_flops = executed_flops(lambda: kv_forward(model, batch))
    full_flops = executed_flops(lambda: model(x_batch))
    single_flops = executed_flops(lambda: model(batch))
    by_history = _speedup_by_history(3 if args.quick else 5)

    result = {
        "config": f"d=128, 4 layers, 4q/2kv heads x 32, history {cfg.history_len}, history-match features, "
        f"1000 candidates, chunk {CHUNK}, fp32",
        "threads": args.threads,
        "workers": workers,
        "cpu_p50_ms_1000": round(kv_ms, 2),
        "cpu_kv_model_p50_ms_1000": round(kv_model_ms, 2),
        "cpu_full_mask_p50_ms_1000": round(full_ms, 2),
        "cpu_single_sequence_p50_ms_1000": round(single_ms, 2),
        "cpu_prefix_p50_ms": round(prefix_ms, 2),
        "kv_speedup_baseline": f"X's layout: 16 full masked sequences of [user | {cfg.history_len} history | 64 candidates]",
        "kv_speedup": round(full_ms / kv_model_ms, 2),
        "kv_speedup_vs_single_sequence": round(single_ms / vs_single["kv_vs_single"], 2),
        "cpu_best_ms_1000": round(_BEST["kv"], 2),
        "cpu_full_mask_best_ms_1000": round(_BEST["full"], 2),
        "cpu_single_sequence_best_ms_1000": round(_BEST["single"], 2),
        "kv_speedup_best": round(_BEST["full"] / _BEST["kv_model"], 2),
        "kv_gflop": round(kv_flops / 1e9, 3),
        "full_mask_gflop": round(full_flops / 1e9, 3),
        "single_sequence_gflop": round(single_flops / 1e9, 3),
        "kv_flop_ratio": round(full_flops / kv_flops, 2),
        "single_sequence_flop_ratio": round(single_flops / kv_flops, 2),
        "kv_gflop_per_s": round(kv_flops / 1e6 / kv_model_ms, 1),
        "full_mask_gflop_per_s": round(full_flops / 1e6 / full_ms, 1),
        "single_sequence_gflop_per_s": round(single_flops / 1e6 / single_ms, 1),
        "cpu_kv_model_p50_ms_1000_by_chunk": dict(sorted(by_chunk.items(), key=lambda kv: int(kv[0]))),
        "kv_speedup_by_history": by_history,
        "cpu_p50_ms_1000_by_workers": {k: round(v, 2) for k, v in by_workers.items()},
        "cpu_p50_ms_1000_by_threads": by_threads,
        "kv_speedup_by_threads": speedup_by_threads,
        "candidates_per_s_cpu": round(1000 / (kv_ms / 1000)),
        "cpu_p50_ms_4_users_x_250_batched": round(batched_ms, 2),
        "kv_vs_full_max_abs_logit_diff": max_diff,
        "kv_vs_x_layout_max_abs_logit_diff": x_diff,
        # The dev box is shared: a 1-minute load average above the core count inflates every number.
        "load_average_1m_at_start": round(load_at_start, 2),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "host_probe_ms": {"at_start": probe_at_start, "at_end": host_probe_ms()},
        "cores": os.cpu_count(),
    }
    if torch.cuda.is_available():
        result.update(_gpu(cfg, reps))
    if args.quality:
        result["quality"] = _quality(args.quality, args.quality_epochs)
    emit("ranker", result, record=args.record)
    return 0


def _speedup_by_history(reps: int) -> dict:
    """KV-cached vs X's layout, model time only, for each of ``HISTORY_LENGTHS`` (every slot filled,
    1,000 candidates, the default model otherwise)."""
    return {str(history): _speedup_at_history(history, reps) for history in HISTORY_LENGTHS}


def _speedup_at_history(history: int, reps: int) -> dict:
    torch.manual_seed(0)
    cfg = RankerConfig(history_len=history)
    model = PhoenixRanker(cfg).eval()
    req = _request(cfg, 1000)
    batch = build_batch([req.user], [req.candidates], NOW, cfg)
    x_batch = x_layout(batch)
    with torch.inference_mode():
        ms = _interleaved_ms(
            {f"kv_{history}": lambda: kv_forward(model, batch), f"full_{history}": lambda: model(x_batch)},
            reps,
        )
        kv_ms, full_ms = ms[f"kv_{history}"], ms[f"full_{history}"]
    flop_ratio = executed_flops(lambda: model(x_batch)) / executed_flops(lambda: kv_forward(model, batch))
    return {
        "kv_model_ms": round(kv_ms, 2),
        "full_mask_ms": round(full_ms, 2),
        "kv_speedup": round(full_ms / kv_ms, 2),
        "kv_speedup_best": round(_BEST[f"full_{history}"] / _BEST[f"kv_{history}"], 2),
        "kv_flop_ratio": round(flop_ratio, 2),
    }


# The quality recipe (each choice measured on the small world; see the issue #4 report):
# post rows start at zero + post-id dropout (later posts are unseen in training), user-id dropout
# (read tastes from the history), more weight decay, early stopping on the last 10% of training.
# The ranker is data-limited there (best epoch the 2nd of 4, the held-out loss rising after): the
# small_long world (same users and rates over 8 days, twice the training impressions; the
# held-out period is still the last 25%) closes favorite 0.031 -> 0.021 and repost 0.034 -> 0.025
# below the oracle on world seed 0 (seeds 1 and 2: every positive action within 0.021); a cosine
# schedule, lr 1e-3, batch 64 or one example per feed request (12 candidates) moved the AUCs by
# <= 0.003. Two epochs: the best is the first on seeds 0 and 1, the second on seed 2.
QUALITY_TRAIN = dict(batch_size=32, lr=2e-3, weight_decay=0.05, post_id_dropout=0.5, user_id_dropout=0.5)


def _quality(preset: str, epochs: int) -> dict:
    """Train the CLI's "small" model on a synthetic world; per-action AUC next to the oracle's.

    The documented run is ``preset="small_long"`` (``--quality small_long``): the issue's target
    (within 0.03 of the oracle for the positive actions) is stated on it.

    Oracle AUCs: ``oracle_auc`` = the world's true probabilities with the feed-position term
    neutralised (every impression as if at the top; the model, like X's, never sees the position:
    this is the ceiling the target is stated against), ``oracle_auc_with_position`` = the full
    truth, and the information-limited oracle (``world_oracle(knowable=True)``):
    ``oracle_auc_knowable`` = the position-blind truth with each post's own quality noise and
    safety label replaced by their distribution given the author (what a request can know;
    ``_labels``: the label kept). ``gap_to_knowable`` = that ceiling minus the model's AUC.
    """
    from events.world import WorldConfig
    from phoenix.ranker.config import sized_config
    from phoenix.ranker.evaluate import evaluate, oracle_aucs
    from phoenix.ranker.world_eval import REPORT_ACTIONS, world_split

    quality_started = time.perf_counter()
    cfg = sized_config("small")
    data = world_split(preset, history_len=cfg.history_len, max_candidates=16)
    world_s = time.perf_counter() - quality_started
    torch.manual_seed(0)
    model = PhoenixRanker(cfg)
    tcfg = TrainConfig(epochs=epochs, progress=False, **QUALITY_TRAIN)
    started = time.perf_counter()
    stats = train(model, data.train, tcfg, early_stop=data.early_stop)
    train_s = time.perf_counter() - started
    metrics = evaluate(model, data.valid, oracle=data.oracle_no_position, actions=REPORT_ACTIONS)
    with_pos = oracle_aucs(data.valid, data.oracle, REPORT_ACTIONS)
    knowable = oracle_aucs(data.valid, data.oracle_knowable, REPORT_ACTIONS)
    knowable_labels = oracle_aucs(data.valid, data.oracle_knowable_labels, REPORT_ACTIONS)

    def r(x: float | None, digits: int = 4) -> float | None:
        return None if x is None or x != x else round(x, digits)

    return {
        "world_preset": preset,
        "world_days": WorldConfig.preset(preset).days,
        "world_and_examples_s": round(world_s, 1),
        "model": f"d={cfg.dim}, {cfg.transformer.num_layers} layers, history {cfg.history_len}, "
        f"{cfg.hashing.num_hashes} hashes, history-match features {cfg.history_match_features}",
        "train_config": {**QUALITY_TRAIN, "max_epochs": epochs},
        "best_epoch": stats.best_epoch,
        "early_stop_losses": [round(x, 4) for x in stats.early_stop_losses],
        "train_examples": len(data.train),
        "early_stop_examples": len(data.early_stop),
        "valid_candidates": sum(len(e.candidates) for e in data.valid),
        "train_examples_per_s_cpu": round(stats.examples_per_s, 1),
        "train_wall_s": round(train_s, 1),
        "quality_wall_s": round(time.perf_counter() - quality_started, 1),
        "per_action": {
            name: {
                "auc": r(m.auc),
                "oracle_auc": r(m.oracle_auc),
                "oracle_auc_with_position": r(with_pos[name]),
                "oracle_auc_knowable": r(knowable[name]),
                "oracle_auc_knowable_labels": r(knowable_labels[name]),
                "gap": r(None if m.oracle_auc is None else m.oracle_auc - m.auc),
                "gap_to_knowable": r(knowable[name] - m.auc),
                "rce": r(m.rce, 2),
                "mean_predicted": round(m.mean_predicted, 5),
                "observed_rate": round(m.observed_rate, 5),
                "positives": m.positives,
            }
            for name, m in metrics.items()
        },
    }


def _gpu(cfg: RankerConfig, reps: int) -> dict:
    torch.manual_seed(0)
    model = PhoenixRanker(cfg).eval()
    engine = RankerEngine(model, "bench", "cuda", chunk_size=2800)
    reqs = [_request(cfg, 1000, seed=s) for s in range(8)]

    def score() -> None:
        engine.score(reqs)
        torch.cuda.synchronize()

    with torch.inference_mode():
        ms = _p50_ms(score, reps)
    rnd = random.Random(1)
    examples = []
    for s in range(512):
        r = _request(cfg, 16, seed=100 + s)
        labels = torch.bernoulli(torch.full((16, 21), 0.1)).numpy()
        examples.append(Example(r.user, list(r.candidates), labels, torch.rand(16).numpy() * 30, NOW))
    rnd.shuffle(examples)
    stats = train(
        PhoenixRanker(cfg), examples, TrainConfig(epochs=1, batch_size=64, device="cuda", progress=False)
    )
    return {
        "gpu_name": torch.cuda.get_device_name(0),
        "gpu_p50_ms_8_users_x_1000": round(ms, 2),
        "gpu_candidates_per_s": round(8000 / (ms / 1000)),
        "train_examples_per_s_gpu": round(stats.examples_per_s, 1),
    }
