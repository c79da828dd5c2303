"""The inference runtime: one model version, prefix once per user, candidates in chunks.

``RankerEngine.score`` takes several users at once (the server batches concurrent requests):
their user/history prefixes run as ONE batch, then candidates are scored in chunks of
``chunk_size`` columns against the cached keys/values, each chunk only for the users that still
have candidates there. Results are scattered into X's wire layout: 64 log-probabilities indexed
by ``ActionName`` number (``UNMODELLED_LOG_PROB`` for actions without a head) and the dwell
prediction in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from phoenix.actions import DISCRETE_ACTIONS, OUTPUT_SLOTS, UNMODELLED_LOG_PROB
from phoenix.checkpoint import CheckpointError, load_checkpoint, load_state_into
from phoenix.heap import keep_freed_memory
from phoenix.ranker.config import RankerConfig
from phoenix.ranker.features import CandidateItem, HistoryItem, UserContext, build_batch
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import CHECKPOINT_KIND

_SLOTS = torch.tensor([h.action for h in DISCRETE_ACTIONS], dtype=torch.long)
# Candidates per KV-cached chunk on CPU. Bigger chunks mean fewer, larger kernels (every chunk runs
# ~40 of them per layer, and small ones gain nothing from a second thread) and, from 768 queries
# per head, torch's CPU flash kernel works in 256-query blocks instead of 64: 1,000 candidates in
# one chunk took 2-4% less CPU than two of 512 (bench ``cpu_kv_model_p50_ms_1000_by_chunk``).
DEFAULT_CHUNK_SIZE = 1024


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
        self, model: PhoenixRanker, version: str, device: str = "cpu", chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        self.model = model.to(device).eval()
        self.cfg: RankerConfig = model.cfg
        self.version = version
        self.device = torch.device(device)
        self.chunk_size = chunk_size
        if self.device.type == "cpu":
            keep_freed_memory()  # activations reuse heap pages instead of faulting in new ones

    @classmethod
    def from_checkpoint(
        cls, path: str, device: str = "cpu", chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> RankerEngine:
        """Load, validate on a probe batch, and return an engine (raises ``CheckpointError``)."""
        ck = load_checkpoint(path, CHECKPOINT_KIND)
        try:
            cfg = RankerConfig.from_dict(ck.config["ranker"])
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: bad ranker config: {exc}") from exc
        model = PhoenixRanker(cfg)
        load_state_into(model, ck.state, where=str(path))
        engine = cls(model, ck.version, device, chunk_size)
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
        counts_t = torch.tensor(counts, device=self.device)
        for start in range(0, max(max(counts), 1), self.chunk_size):
            stop = min(start + self.chunk_size, width)
            rows = torch.nonzero(counts_t > start).flatten()
            if rows.numel() == 0:
                break
            sub = batch.candidates(start, stop)
            if rows.numel() < len(requests):
                sub = sub.select_rows(rows)
                sub_cache = cache.select(rows)
            else:
                sub_cache = cache
            lg, dw = self.model.score_cached(sub_cache, sub)
            logits[rows, start:stop] = lg
            dwell[rows, start:stop] = dw
        wire = torch.full((len(requests), width, OUTPUT_SLOTS), UNMODELLED_LOG_PROB, device=self.device)
        wire[..., _SLOTS.to(self.device)] = F.logsigmoid(logits)
        wire_np, dwell_np = wire.cpu().numpy(), dwell.cpu().numpy()
        return [ScoreResult(wire_np[i, :n], dwell_np[i, :n]) for i, n in enumerate(counts)]
