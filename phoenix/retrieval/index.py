"""The retrieval index: candidate-tower vectors of the servable posts, searched by inner product.

X's serving does an exact (bf16) matmul of the user vector against the whole index (§5.2); on
one CPU that is the ``flat`` kind (``IndexIDMap2`` over ``IndexFlatIP``), the default. Two
approximate kinds trade a little recall for far less work per query at million-post scale:

* ``hnsw`` - a graph (``IndexHNSWFlat``); FAISS cannot delete from it, so removed posts become
  tombstones filtered at search time and the graph is compacted once they pile up;
* ``ivf`` - inverted lists over k-means cells (``IndexIVFFlat``); trained on the first batch
  it sees (cells shrink to what the data supports) and retrained on every rebuild.

A ``torch`` kind does exact top-k with a matmul on any torch device; ``auto`` picks it on CUDA
(the faiss GPU wheels do not fit the GPU machine, see environment.md) and ``flat`` otherwise.

Posts are keyed by their 64-bit post id; each carries its author id so results need no lookup.
Exclusions (seen / served posts) are applied inside the search with a FAISS ``IDSelector``, so
``top_k`` results come back even when many of the best posts are excluded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from itertools import repeat
from typing import Literal

import faiss
import numpy as np
import torch

IndexKind = Literal["flat", "hnsw", "ivf", "torch", "auto"]
KINDS: tuple[str, ...] = ("flat", "hnsw", "ivf", "torch", "auto")


@dataclass(frozen=True)
class IndexConfig:
    """Which index structure and its knobs (defaults: exact search)."""

    dim: int
    kind: IndexKind = "flat"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 64
    hnsw_ef_search: int = 1024
    ivf_nlist: int = 1024
    ivf_nprobe: int = 32
    torch_device: str = "cpu"
    compact_tombstone_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown index kind {self.kind!r}; expected one of {KINDS}")
        if (
            min(self.hnsw_m, self.hnsw_ef_construction, self.hnsw_ef_search, self.ivf_nlist, self.ivf_nprobe)
            < 1
        ):
            raise ValueError("index parameters must be >= 1")

    def resolved_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        return "torch" if torch.cuda.is_available() else "flat"


@dataclass
class SearchResult:
    """Per query row: post ids, author ids and scores, best first; ``-1`` ids pad short rows."""

    post_ids: np.ndarray
    author_ids: np.ndarray
    scores: np.ndarray

    def hits(self, row: int = 0) -> list[tuple[int, int, float]]:
        keep = self.post_ids[row] >= 0
        return list(
            zip(
                self.post_ids[row][keep].tolist(),
                self.author_ids[row][keep].tolist(),
                self.scores[row][keep].tolist(),
                strict=True,
            )
        )


@dataclass
class _TorchStore:
    """Exact inner-product top-k with torch (the CUDA path; also runs on CPU)."""

    dim: int
    device: str
    vectors: torch.Tensor = field(init=False)
    ids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.vectors = torch.empty((0, self.dim), device=self.device)
        self.ids = np.empty(0, dtype=np.int64)

    @property
    def ntotal(self) -> int:
        return int(self.ids.shape[0])

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.vectors = torch.cat([self.vectors, torch.from_numpy(vectors).to(self.device)])
        self.ids = np.concatenate([self.ids, ids])

    def remove(self, ids: np.ndarray) -> int:
        keep = ~np.isin(self.ids, ids)
        removed = int((~keep).sum())
        if removed:
            self.vectors = self.vectors[torch.from_numpy(keep).to(self.device)]
            self.ids = self.ids[keep]
        return removed

    def search(self, queries: np.ndarray, k: int, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nq = queries.shape[0]
        out_ids = np.full((nq, k), -1, dtype=np.int64)
        out_scores = np.full((nq, k), -np.inf, dtype=np.float32)
        if self.ntotal == 0:
            return out_scores, out_ids
        scores = torch.from_numpy(queries).to(self.device) @ self.vectors.T
        if excluded.size:
            mask = torch.from_numpy(np.isin(self.ids, excluded)).to(self.device)
            scores = scores.masked_fill(mask, float("-inf"))
        kk = min(k, self.ntotal)
        top = torch.topk(scores, kk, dim=1)
        vals = top.values.float().cpu().numpy()
        idx = top.indices.cpu().numpy()
        valid = np.isfinite(vals)
        out_scores[:, :kk] = np.where(valid, vals, -np.inf)
        out_ids[:, :kk] = np.where(valid, self.ids[idx], -1)
        return out_scores, out_ids


class PostIndex:
    """Thread-safe id-keyed vector index with add, remove and search-with-exclusions."""

    def __init__(self, cfg: IndexConfig) -> None:
        self.cfg = cfg
        self.kind = cfg.resolved_kind()
        self._lock = threading.RLock()
        self._authors: dict[int, int] = {}
        self._tombstones: set[int] = set()  # hnsw only: deleted but still in the graph
        self._faiss: faiss.Index | None = None
        self._torch: _TorchStore | None = None
        if self.kind == "torch":
            self._torch = _TorchStore(cfg.dim, cfg.torch_device)
        elif self.kind == "flat":
            self._faiss = faiss.IndexIDMap2(faiss.IndexFlatIP(cfg.dim))
        elif self.kind == "hnsw":
            self._faiss = self._new_hnsw()
        # ivf: created on the first add, when there is data to train the cells on

    # -- construction ------------------------------------------------------------------------
    def _new_hnsw(self) -> faiss.Index:
        graph = faiss.IndexHNSWFlat(self.cfg.dim, self.cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.cfg.hnsw_ef_construction
        graph.hnsw.efSearch = self.cfg.hnsw_ef_search
        return faiss.IndexIDMap2(graph)

    def _new_ivf(self, train: np.ndarray) -> faiss.Index:
        # k-means wants ~39 points per cell; with less data use fewer cells rather than fail.
        nlist = max(1, min(self.cfg.ivf_nlist, train.shape[0] // 39))
        quantizer = faiss.IndexFlatIP(self.cfg.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.cfg.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.max_points_per_centroid = 64  # bounded training time on large corpora
        ivf.train(train)
        ivf.nprobe = min(self.cfg.ivf_nprobe, nlist)
        self._ivf_quantizer = quantizer  # keep the Python object alive with the index
        return ivf

    def tune(self, *, ivf_nprobe: int | None = None, hnsw_ef_search: int | None = None) -> None:
        """Change the search-time knobs (recall vs latency) without rebuilding."""
        with self._lock:
            changes = {k: v for k, v in (("ivf_nprobe", ivf_nprobe), ("hnsw_ef_search", hnsw_ef_search)) if v}
            self.cfg = replace(self.cfg, **changes)
            if self.kind == "ivf" and self._faiss is not None and ivf_nprobe:
                self._faiss.nprobe = min(ivf_nprobe, self._faiss.nlist)
            if self.kind == "hnsw" and self._faiss is not None and hnsw_ef_search:
                faiss.downcast_index(self._faiss.index).hnsw.efSearch = hnsw_ef_search

    # -- size / lookup -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._authors)

    def __contains__(self, post_id: int) -> bool:
        return int(post_id) in self._authors

    def author_of(self, post_id: int) -> int | None:
        return self._authors.get(int(post_id))

    def post_ids(self) -> np.ndarray:
        with self._lock:
            return np.fromiter(self._authors.keys(), dtype=np.int64, count=len(self._authors))

    # -- mutation --------------------------------------------------------------------------------
    def _check_vectors(self, post_ids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.cfg.dim:
            raise ValueError(f"vectors must have shape [n, {self.cfg.dim}], got {vectors.shape}")
        if vectors.shape[0] != post_ids.shape[0]:
            raise ValueError(f"{post_ids.shape[0]} post ids but {vectors.shape[0]} vectors")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors contain NaN or inf")
        return vectors

    def add(self, post_ids, author_ids, vectors: np.ndarray) -> int:
        """Add posts (ids already present are replaced). Returns how many were added."""
        ids = np.asarray(post_ids, dtype=np.int64).reshape(-1)
        authors = np.asarray(author_ids, dtype=np.int64).reshape(-1)
        if authors.shape != ids.shape:
            raise ValueError(f"{ids.shape[0]} post ids but {authors.shape[0]} author ids")
        if (ids <= 0).any():
            raise ValueError("post ids must be positive (0 is padding, -1 marks empty results)")
        vecs = self._check_vectors(ids, vectors)
        if ids.size == 0:
            return 0
        # last write wins inside one call
        _, last = np.unique(ids[::-1], return_index=True)
        keep = np.sort(ids.size - 1 - last)
        ids, authors, vecs = ids[keep], authors[keep], vecs[keep]
        with self._lock:
            present = np.array([int(i) in self._authors for i in ids.tolist()], dtype=bool)
            if present.any():
                self._remove_locked(ids[present])
            self._add_locked(ids, vecs)
            for pid, aid in zip(ids.tolist(), authors.tolist(), strict=True):
                self._authors[pid] = aid
                self._tombstones.discard(pid)
        return int(ids.size)

    def _add_locked(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        if self._torch is not None:
            self._torch.add(ids, vecs)
            return
        if self._faiss is None:  # ivf, first batch
            self._faiss = self._new_ivf(vecs)
        if self.kind == "hnsw" and self._tombstones:
            # a re-added id may still sit in the graph as a tombstone: drop it from the id map view
            stale = np.array([i for i in ids.tolist() if i in self._tombstones], dtype=np.int64)
            if stale.size:
                self._compact_locked()
        self._faiss.add_with_ids(vecs, ids)

    def remove(self, post_ids) -> int:
        """Remove posts by id (unknown ids are ignored). Returns how many were removed."""
        ids = np.asarray(post_ids, dtype=np.int64).reshape(-1)
        with self._lock:
            known = np.array([i for i in ids.tolist() if i in self._authors], dtype=np.int64)
            if known.size == 0:
                return 0
            self._remove_locked(known)
            for pid in known.tolist():
                self._authors.pop(pid, None)
            return int(known.size)

    def _remove_locked(self, ids: np.ndarray) -> None:
        if self._torch is not None:
            self._torch.remove(ids)
        elif self.kind == "hnsw":
            self._tombstones.update(ids.tolist())
            live = len(self._authors)
            if len(self._tombstones) > self.cfg.compact_tombstone_fraction * max(live, 1):
                for pid in ids.tolist():
                    self._authors.pop(pid, None)
                self._compact_locked()
        elif self._faiss is not None:
            self._faiss.remove_ids(faiss.IDSelectorBatch(ids))

    def _compact_locked(self) -> None:
        """Rebuild the HNSW graph without its tombstones (FAISS cannot delete graph nodes)."""
        assert self._faiss is not None
        old = self._faiss
        live_ids = np.array([i for i in self._authors if i not in self._tombstones], dtype=np.int64)
        vecs = old.reconstruct_batch(live_ids) if live_ids.size else np.empty((0, self.cfg.dim), np.float32)
        self._faiss = self._new_hnsw()
        if live_ids.size:
            self._faiss.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), live_ids)
        self._tombstones.clear()

    # -- search ----------------------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int, exclude=None) -> SearchResult:
        """Top-``k`` posts by inner product per query row, never returning an excluded id."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.cfg.dim:
            raise ValueError(f"queries must have shape [n, {self.cfg.dim}], got {np.asarray(queries).shape}")
        if not np.isfinite(q).all():
            raise ValueError("queries contain NaN or inf")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        excluded = np.asarray(sorted(set(exclude or ())), dtype=np.int64)
        with self._lock:
            if self._torch is not None:
                scores, ids = self._torch.search(q, k, excluded)
            elif self._faiss is None or self._faiss.ntotal == 0:
                scores = np.full((q.shape[0], k), -np.inf, dtype=np.float32)
                ids = np.full((q.shape[0], k), -1, dtype=np.int64)
            else:
                scores, ids = self._faiss_search(q, k, excluded)
            get = self._authors.get  # -1 (no hit) is never a post id: it maps to author 0 as well
            authors = np.array([list(map(get, row, repeat(0))) for row in ids.tolist()],
                               dtype=np.int64).reshape(ids.shape)
        return SearchResult(ids, authors, scores)

    def _faiss_search(self, q: np.ndarray, k: int, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self._faiss is not None
        blocked = excluded
        if self._tombstones:
            blocked = np.union1d(excluded, np.fromiter(self._tombstones, dtype=np.int64))
        params = None
        keep_alive: list[object] = []
        if blocked.size:
            batch = faiss.IDSelectorBatch(blocked)
            selector = faiss.IDSelectorNot(batch)
            keep_alive += [batch, selector]
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.cfg.hnsw_ef_search, k))
            elif self.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self._faiss.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
        elif self.kind == "hnsw" and k > self.cfg.hnsw_ef_search:
            params = faiss.SearchParametersHNSW(efSearch=k)
        scores, ids = self._faiss.search(q, k, params=params)
        del keep_alive
        return scores, ids
