"""The inference runtime: one model version, prefix once per user, candidates in chunks.

``RankerEngine.score`` takes several users at once (the server batches concurrent requests):
their user/history prefixes run as ONE batch, then candidates are scored in chunks of
``chunk_size`` columns against the cached keys/values, each chunk only for the users that still
have candidates there. Results are scattered into X's wire layout: 64 log-probabilities indexed
by ``ActionName`` number (``UNMODELLED_LOG_PROB`` for actions without a head) and the dwell
prediction in seconds.

On CPU, ``workers > 1`` scores a request's chunks concurrently, each on its own thread with
torch's intra-op count unchanged (1 on the 2-core box): candidates are independent given the
cached prefix, so the chunks share nothing but read-only weights and keys. Unlike more OpenMP
threads, whose every parallel region waits for its slowest thread (on a loaded box, for one that
is descheduled), a worker that loses its core only delays its own chunk. Requests too small to
pay for the hand-off (``MIN_PARALLEL_WORK``) stay on the calling thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from phoenix.actions import DISCRETE_ACTIONS, OUTPUT_SLOTS, UNMODELLED_LOG_PROB
from phoenix.checkpoint import CheckpointError, load_checkpoint, load_state_into
from phoenix.heap import keep_freed_memory
from phoenix.ranker.config import RankerConfig
from phoenix.ranker.features import CandidateItem, HistoryItem, RankerBatch, UserContext, build_batch
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import CHECKPOINT_KIND
from phoenix.transformer import KVCache

_SLOTS = torch.tensor([h.action for h in DISCRETE_ACTIONS], dtype=torch.long)
# Candidates per KV-cached chunk on CPU. Bigger chunks mean fewer, larger kernels (every chunk runs
# ~40 of them per layer, and small ones gain nothing from a second thread) and, from 768 queries
# per head, torch's CPU flash kernel works in 256-query blocks instead of 64: 1,000 candidates in
# one chunk took 2-4% less CPU than two of 512 (bench ``cpu_kv_model_p50_ms_1000_by_chunk``).
DEFAULT_CHUNK_SIZE = 1024
# Concurrent chunks pay off when each has at least this much work, counted as candidates x layers x
# d^2. Measured on the 2-core box (1 torch thread, 2 workers): the serving model (d=128, 4 layers)
# scored 2,200 candidates 1.45-1.7x faster (1,000 with a 320-item history: 1.2x); the test-size
# model (d=32, 2 layers) ran 7 % slower, its chunks being mostly per-op overhead under the GIL.
MIN_PARALLEL_WORK = 2**24


@dataclass
class ScoreRequest:
    user: UserContext
    candidates: Sequence[CandidateItem]
    now_ms: int


@dataclass
class ScoreResult:
    log_probs: np.ndarray  # [C, 64] log-sigmoid by ActionName number
    dwell_s: np.ndarray  # [C]


class RankerEngine:
    def __init__(
        self,
        model: PhoenixRanker,
        version: str,
        device: str = "cpu",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.model = model.to(device).eval()
        self.cfg: RankerConfig = model.cfg
        self.version = version
        self.device = torch.device(device)
        self.chunk_size = chunk_size
        self.workers = workers if self.device.type == "cpu" else 1
        # The calling thread scores one chunk itself; the pool takes the others.
        self._pool = ThreadPoolExecutor(self.workers - 1, "ranker-chunk") if self.workers > 1 else None
        if self.device.type == "cpu":
            keep_freed_memory()  # activations reuse heap pages instead of faulting in new ones

    @classmethod
    def from_checkpoint(
        cls, path: str, device: str = "cpu", chunk_size: int = DEFAULT_CHUNK_SIZE, workers: int = 1
    ) -> RankerEngine:
        """Load, validate on a probe batch, and return an engine (raises ``CheckpointError``)."""
        ck = load_checkpoint(path, CHECKPOINT_KIND)
        try:
            cfg = RankerConfig.from_dict(ck.config["ranker"])
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: bad ranker config: {exc}") from exc
        model = PhoenixRanker(cfg)
        load_state_into(model, ck.state, where=str(path))
        engine = cls(model, ck.version, device, chunk_size, workers)
        engine.probe()
        return engine

    def probe(self) -> None:
        """Score a fixed synthetic request both ways; refuse a model that gives NaN or disagrees."""
        user = UserContext(7, [HistoryItem(1000 + i, 50 + i % 3, (1,), 2000, 1) for i in range(3)])
        cands = [CandidateItem(5000 + i, 60 + i, 0, bool(i % 2), 1) for i in range(5)]
        batch = build_batch([user, UserContext(8, [])], [cands, cands[:2]], 1_700_000_000_000, self.cfg).to(
            self.device
        )
        with torch.inference_mode():
            full_logits, full_dwell = self.model(batch)
            cached_logits, cached_dwell = self.model.score_cached(self.model.encode_prefix(batch), batch)
        if not (
            torch.isfinite(full_logits).all()
            and torch.isfinite(cached_logits).all()
            and torch.isfinite(full_dwell).all()
        ):
            raise CheckpointError("probe batch produced NaN/inf scores")
        if not torch.allclose(full_logits, cached_logits, atol=1e-3) or not torch.allclose(
            full_dwell, cached_dwell, atol=1e-3
        ):
            raise CheckpointError("probe batch: KV-cached scores differ from the full masked path")

    @torch.inference_mode()
    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        if not requests:
            return []
        counts = [len(r.candidates) for r in requests]
        batch = build_batch(
            [r.user for r in requests],
            [r.candidates for r in requests],
            [r.now_ms for r in requests],
            self.cfg,
        ).to(self.device)
        cache = self.model.encode_prefix(batch)
        width = batch.cand_valid.shape[1]
        logits = torch.empty(len(requests), width, len(DISCRETE_ACTIONS), device=self.device)
        dwell = torch.zeros(len(requests), width, device=self.device)
        chunks = self._chunks(batch, cache, counts)
        for chunk, (lg, dw) in zip(chunks, self._score_chunks(chunks), strict=True):
            logits[chunk.rows, chunk.start : chunk.stop] = lg
            dwell[chunk.rows, chunk.start : chunk.stop] = dw
        wire = torch.full((len(requests), width, OUTPUT_SLOTS), UNMODELLED_LOG_PROB, device=self.device)
        wire[..., _SLOTS.to(self.device)] = F.logsigmoid(logits)
        wire_np, dwell_np = wire.cpu().numpy(), dwell.cpu().numpy()
        return [ScoreResult(wire_np[i, :n], dwell_np[i, :n]) for i, n in enumerate(counts)]

    def _chunks(self, batch: RankerBatch, cache: KVCache, counts: list[int]) -> list[_Chunk]:
        """Column ranges of ``_chunk_width``, each for the users that still have candidates there."""
        longest = max(max(counts), 1)
        step = self._chunk_width(len(counts), longest)
        counts_t = torch.tensor(counts, device=self.device)
        chunks = []
        for start in range(0, longest, step):
            stop = min(start + step, batch.cand_valid.shape[1])
            rows = torch.nonzero(counts_t > start).flatten()
            if rows.numel() == 0:  # every request is empty
                break
            sub, sub_cache = batch.candidates(start, stop), cache
            if rows.numel() < len(counts):
                sub, sub_cache = sub.select_rows(rows), cache.select(rows)
            chunks.append(_Chunk(rows, start, stop, sub, sub_cache))
        return chunks

    def _chunk_width(self, users: int, longest: int) -> int:
        """Candidates per chunk: ``chunk_size``, or with workers, narrow enough that every worker
        gets a chunk, if each chunk still carries ``MIN_PARALLEL_WORK``."""
        if self._pool is None:
            return self.chunk_size
        narrow = min(self.chunk_size, -(-longest // self.workers))
        work = users * narrow * self.cfg.transformer.num_layers * self.cfg.dim**2
        return narrow if work >= MIN_PARALLEL_WORK else self.chunk_size

    def _score_chunks(self, chunks: list[_Chunk]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(logits, dwell) of each chunk: in turn, or with workers concurrently (the calling thread
        scores the first)."""
        if self._pool is None or len(chunks) <= 1:
            return [self.model.score_cached(c.cache, c.batch) for c in chunks]
        for c in chunks:  # the candidate views, built here once, not by each concurrent chunk
            self.model.prepare_cache(c.cache)
        later = [self._pool.submit(self._score_in_worker, c) for c in chunks[1:]]
        return [self.model.score_cached(chunks[0].cache, chunks[0].batch), *(f.result() for f in later)]

    def _score_in_worker(self, chunk: _Chunk) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():  # per thread: the caller's mode does not reach a worker
            return self.model.score_cached(chunk.cache, chunk.batch)


@dataclass
class _Chunk:
    rows: torch.Tensor  # the batch rows (users) with candidates in [start, stop)
    start: int
    stop: int
    batch: RankerBatch  # those users, those candidate columns
    cache: KVCache  # those users' prefixes

