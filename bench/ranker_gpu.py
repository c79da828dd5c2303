"""Ranker on a CUDA GPU: scoring throughput (end to end and model alone) and training throughput.

    python -m bench ranker_gpu [--quick] [--record]

Same serving config and synthetic requests as ``python -m bench ranker`` (d=128, 4 layers, history
320, 1,000 candidates per user). What it separates, because on a GPU they differ by an order of
magnitude:

* ``gpu_p50_ms_<U>_users_x_1000``: the whole ``RankerEngine.score`` call for U users (hashing and
  feature building on the CPU, transfer, prefix, cached candidate chunks, results back);
  ``gpu_candidates_per_s`` is the best of these (the engine batches concurrent users, so this is
  what a loaded server reaches).
* ``gpu_model_p50_ms_<U>_users_x_1000``: the forward passes alone on an already-built batch, fp32
  and under bf16 autocast; ``gpu_featurize_p50_ms_<U>_users`` the CPU feature building (from the
  candidate columns the server decodes packed requests into, as in ``bench ranker``).
* ``gpu_kv_speedup``: X's layout (64 candidates per full masked sequence) / the KV-cached path,
  wall time. At one user both are bound by kernel launches, not by the GPU, so also:
  ``gpu_*_kernel_ms_1000`` (time the GPU spent in kernels, from the profiler), ``gpu_*_launches``
  and ``gpu_kv_kernel_speedup`` (the ratio of GPU work).
* ``train_examples_per_s_gpu``: steady-state training (a warm-up run first, so CUDA context,
  kernel selection and lazy imports are not timed), examples of 16 candidates, batch 256.

On a machine without CUDA it prints a JSON line saying so and exits 0 (CI has no GPU).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import torch

from bench.ranker import NOW, _request, x_layout
from bench.record import emit
from phoenix.ranker.config import RankerConfig
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.examples import Example
from phoenix.ranker.features import build_batch
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import TrainConfig, train


def _p50_ms(fn: Callable[[], object], reps: int) -> float:
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _kernel_work(fn: Callable[[], object]) -> tuple[float, int]:
    """(milliseconds the GPU spent in kernels, kernel launches) for one call of ``fn``."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    events = prof.key_averages()
    launches = sum(e.count for e in events if e.key.startswith("cudaLaunchKernel"))
    return sum(e.self_device_time_total for e in events) / 1000, launches


def _examples(cfg: RankerConfig, n: int, seed: int) -> list[Example]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for s in range(n):
        r = _request(cfg, 16, seed=seed + s)
        labels = torch.bernoulli(torch.full((16, 21), 0.1), generator=gen).numpy()
        out.append(Example(r.user, list(r.candidates), labels, (torch.rand(16, generator=gen) * 30).numpy(), NOW))
    random.Random(seed).shuffle(out)
    return out


def _serving(cfg: RankerConfig, users: list[int], reps: int) -> dict:
    torch.manual_seed(0)
    model = PhoenixRanker(cfg).eval()
    engine = RankerEngine(model, "bench", "cuda", chunk_size=2800)
    device_model = engine.model
    out: dict[str, float] = {}
    best_rate = 0.0
    with torch.inference_mode():
        for u in users:
            reqs = [_request(cfg, 1000, seed=s) for s in range(u)]
            ms = _p50_ms(lambda reqs=reqs: engine.score(reqs), reps)
            out[f"gpu_p50_ms_{u}_users_x_1000"] = round(ms, 2)
            best_rate = max(best_rate, u * 1000 / (ms / 1000))

            def featurize(reqs=reqs):
                return build_batch([r.user for r in reqs], [r.candidates for r in reqs], NOW, cfg)

            out[f"gpu_featurize_p50_ms_{u}_users"] = round(_p50_ms(featurize, reps), 2)
            batch = featurize().to("cuda")

            def model_only(batch=batch):
                return device_model.score_cached(device_model.encode_prefix(batch), batch)

            out[f"gpu_model_p50_ms_{u}_users_x_1000"] = round(_p50_ms(model_only, reps), 2)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                out[f"gpu_model_bf16_p50_ms_{u}_users_x_1000"] = round(_p50_ms(model_only, reps), 2)
        one = build_batch([_request(cfg, 1000).user], [_request(cfg, 1000).candidates], NOW, cfg)
        x_batch, one = x_layout(one).to("cuda"), one.to("cuda")
        def kv_path():
            return device_model.score_cached(device_model.encode_prefix(one), one)

        kv = _p50_ms(kv_path, reps)
        full = _p50_ms(lambda: device_model(x_batch), reps)
        kv_kernel_ms, kv_launches = _kernel_work(kv_path)
        full_kernel_ms, full_launches = _kernel_work(lambda: device_model(x_batch))
    out["gpu_candidates_per_s"] = round(best_rate)
    out["gpu_kv_model_p50_ms_1000"] = round(kv, 3)
    out["gpu_full_mask_p50_ms_1000"] = round(full, 3)
    out["gpu_kv_speedup"] = round(full / kv, 2)
    out["gpu_kv_kernel_ms_1000"] = round(kv_kernel_ms, 3)
    out["gpu_full_mask_kernel_ms_1000"] = round(full_kernel_ms, 3)
    out["gpu_kv_kernel_speedup"] = round(full_kernel_ms / kv_kernel_ms, 2)
    out["gpu_kv_launches"] = kv_launches
    out["gpu_full_mask_launches"] = full_launches
    return out


def _training(cfg: RankerConfig, n: int, batch_size: int) -> dict:
    torch.manual_seed(0)
    tcfg = TrainConfig(epochs=1, batch_size=batch_size, device="cuda", progress=False)
    train(PhoenixRanker(cfg), _examples(cfg, batch_size * 2, seed=10_000), tcfg)  # warm-up, not timed
    examples = _examples(cfg, n, seed=100)
    stats = train(PhoenixRanker(cfg), examples, tcfg)
    return {
        "train_examples_per_s_gpu": round(stats.examples_per_s, 1),
        "train_candidates_per_s_gpu": round(stats.examples_per_s * 16),
        "train_batch_size": batch_size,
        "train_examples_timed": n,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ranker_gpu", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer users and repetitions")
    parser.add_argument("--record", action="store_true", help="write bench/results/ranker_gpu.json")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print('{"skipped": "no CUDA device on this machine"}')
        return 0
    cfg = RankerConfig()
    reps = 5 if args.quick else 20
    result = {
        "config": f"d=128, 4 layers, 4q/2kv heads x 32, history {cfg.history_len}, 1000 candidates per user, chunk 2800",
        "gpu_name": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        **_serving(cfg, [1, 8] if args.quick else [1, 8, 32], reps),
        **_training(cfg, 1024 if args.quick else 4096, 256),
    }
    emit("ranker_gpu", result, record=args.record)
    return 0
