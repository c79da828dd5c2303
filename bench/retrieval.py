"""Retrieval index benchmark: top-1,000 latency and recall of each index kind at corpus scale.

``python -m bench retrieval [--quick] [--record]``

Builds the corpus once (``--n`` posts x ``--dim``, default 1M x 128; ``--quick`` 100k), adds it
to each index kind through ``PostIndex`` (the serving code path, ids and authors included) and
asks ``--queries`` single-user top-1,000 queries one at a time, as the gRPC server does. Exact
``flat`` search is the baseline: approximate kinds report recall@1000 against it on the same
queries. Vectors are L2-normalised samples around a few thousand topic centres, because real
candidate-tower outputs are clustered (uniform random vectors on the sphere have no
neighbourhood structure and would measure nothing an ANN index is built for).
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np
import torch

from bench.record import emit
from phoenix.retrieval.index import IndexConfig, PostIndex

TOP_K = 1000


def make_corpus(n: int, dim: int, topics: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit post vectors (topic centre + equal-norm noise) and the unit topic centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = np.empty((n, dim), dtype=np.float32)
    step = 200_000
    for start in range(0, n, step):
        m = min(step, n - start)
        topic = rng.integers(0, topics, m)
        v = centres[topic] + rng.standard_normal((m, dim)).astype(np.float32) / np.sqrt(dim)
        vectors[start:start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return vectors, centres


def make_queries(centres: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A user vector mixes a few topics (users like several things), normalised."""
    rng = np.random.default_rng(seed)
    q = np.zeros((count, centres.shape[1]), dtype=np.float32)
    for i in range(count):
        picks = rng.choice(centres.shape[0], size=3, replace=False)
        q[i] = (rng.dirichlet(np.ones(3)).astype(np.float32)[:, None] * centres[picks]).sum(0)
    q += 0.05 * rng.standard_normal(q.shape).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def timed_queries(index: PostIndex, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    index.search(queries[:1], TOP_K)  # warm-up
    ids = np.empty((queries.shape[0], TOP_K), dtype=np.int64)
    times: list[float] = []
    for i in range(queries.shape[0]):
        t0 = time.perf_counter()
        res = index.search(queries[i:i + 1], TOP_K)
        times.append((time.perf_counter() - t0) * 1000)
        ids[i] = res.post_ids[0]
    return ids, times


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    hits = sum(len(np.intersect1d(a[a >= 0], e[e >= 0])) for a, e in zip(approx, exact, strict=True))
    return hits / float((exact >= 0).sum())


def build(cfg: IndexConfig, ids: np.ndarray, vectors: np.ndarray, chunk: int = 100_000) -> tuple[PostIndex, float]:
    index = PostIndex(cfg)
    t0 = time.perf_counter()
    for start in range(0, ids.shape[0], chunk):
        index.add(ids[start:start + chunk], ids[start:start + chunk] % 10_007 + 1, vectors[start:start + chunk])
    return index, time.perf_counter() - t0


def stats(prefix: str, times: list[float]) -> dict[str, float]:
    arr = np.asarray(times)
    return {f"{prefix}_p50_ms_top1000": round(float(np.percentile(arr, 50)), 3),
            f"{prefix}_p99_ms_top1000": round(float(np.percentile(arr, 99)), 3)}


def sweep(prefix: str, index: PostIndex, queries: np.ndarray, exact: np.ndarray,
          settings: list[dict[str, int]], target: float = 0.95) -> dict[str, object]:
    """Measure each search setting; report the fastest one reaching ``target`` recall (else the
    most accurate) under the plain ``<prefix>_*`` keys, and every point under ``<prefix>_sweep``."""
    points = []
    for setting in settings:
        index.tune(**setting)
        approx, times = timed_queries(index, queries)
        points.append({**setting, **stats(prefix, times), f"{prefix}_recall_at_1000": round(recall(approx, exact), 4)})
    good = [p for p in points if p[f"{prefix}_recall_at_1000"] >= target]
    best = (min(good, key=lambda p: p[f"{prefix}_p99_ms_top1000"]) if good
            else max(points, key=lambda p: p[f"{prefix}_recall_at_1000"]))
    return {**best, f"{prefix}_sweep": points}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k posts, fewer queries (< 60 s)")
    parser.add_argument("--record", action="store_true", help="write bench/results/retrieval.json")
    parser.add_argument("--n", type=int, default=None, help="corpus size (default 1,000,000; quick 100,000)")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--hnsw-ef-construction", type=int, default=40)
    parser.add_argument("--hnsw-ef-search", type=int, nargs="+", default=[1000, 1500, 2500])
    parser.add_argument("--ivf-nlist", type=int, default=1024)
    parser.add_argument("--ivf-nprobe", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--skip-hnsw", action="store_true", help="measure IVF only (HNSW build is slow)")
    args = parser.parse_args(argv)
    n = args.n or (100_000 if args.quick else 1_000_000)
    nq = args.queries or (50 if args.quick else 200)
    faiss.omp_set_num_threads(max(1, torch.get_num_threads()))

    vectors, centres = make_corpus(n, args.dim, topics=max(50, n // 1000), seed=7)
    queries = make_queries(centres, nq, seed=11)
    ids = np.arange(1, n + 1, dtype=np.int64) * 4096 + 17  # snowflake-like sparse ids
    result: dict[str, object] = {"index_size": n, "dim": args.dim, "queries": nq, "top_k": TOP_K,
                                 "threads": faiss.omp_get_max_threads()}

    flat, flat_build = build(IndexConfig(dim=args.dim, kind="flat"), ids, vectors)
    result["add_per_s"] = round(n / flat_build)
    exact, times = timed_queries(flat, queries)
    result.update(stats("flat", times))
    # live ingest adds one small batch per Kafka poll: measure that path too
    t0 = time.perf_counter()
    small = vectors[:2000]
    for i in range(0, 2000, 50):
        flat.add(ids[i:i + 50] + 1, ids[i:i + 50] % 7 + 1, small[i:i + 50])
    result["live_add_per_s_batch50"] = round(2000 / (time.perf_counter() - t0))
    del flat

    ivf_cfg = IndexConfig(dim=args.dim, kind="ivf", ivf_nlist=args.ivf_nlist)
    ivf, ivf_build = build(ivf_cfg, ids, vectors)
    result.update(sweep("ivf", ivf, queries, exact, [{"ivf_nprobe": p} for p in args.ivf_nprobe]))
    result.update({"ivf_build_s": round(ivf_build, 1), "ivf_nlist": args.ivf_nlist})
    del ivf

    if args.skip_hnsw:
        result["hnsw"] = "skipped (--skip-hnsw)"
    else:
        hnsw_cfg = IndexConfig(dim=args.dim, kind="hnsw", hnsw_m=args.hnsw_m,
                               hnsw_ef_construction=args.hnsw_ef_construction)
        hnsw, hnsw_build = build(hnsw_cfg, ids, vectors)
        result.update(sweep("hnsw", hnsw, queries, exact, [{"hnsw_ef_search": e} for e in args.hnsw_ef_search]))
        result.update({"hnsw_build_s": round(hnsw_build, 1), "hnsw_m": args.hnsw_m,
                       "hnsw_ef_construction": args.hnsw_ef_construction})
    if torch.cuda.is_available():
        gpu, _ = build(IndexConfig(dim=args.dim, kind="torch", torch_device="cuda"), ids, vectors)
        approx, times = timed_queries(gpu, queries)
        result.update(stats("torch_cuda", times))
        result["torch_cuda_recall_at_1000"] = round(recall(approx, exact), 4)
    emit("retrieval", result, record=args.record)
    return 0
