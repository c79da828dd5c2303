"""The two-tower retrieval model (reference §5): a user tower and a candidate (post) tower.

* Both towers read the SAME hashed id embeddings (post and author tables, project-then-sum), as
  SASRec-style models share input and output item embeddings: with little data per post, a post
  learnt as a history item is already placed as a candidate and vice versa.
* User tower: the shared ``Transformer`` over ``[user | history]`` (no candidates), history
  tokens = post + author embeddings + the multi-hot of the actions taken on the post; then a
  masked mean-pool over valid positions and L2 normalisation.
* Candidate tower: concat(post, author) embeddings -> Linear(2D, 2D) -> SiLU -> Linear(2D, D)
  -> L2 normalisation (X's concat-then-MLP tower). Score = dot product = cosine.

The user tower's mask is configurable: ``causal`` (X's [Jan] retrieval demo) or
``bidirectional`` (X's [Aug] production). With ``causal`` one forward pass gives the pooled user
vector of EVERY prefix of the history at once (a running mean of causal outputs; with
left-anchored positions a prefix's outputs are exactly those of a run on that prefix alone;
the bidirectional mask uses X's right-anchored positions), so training learns from every
next-item target of a sequence in one pass - that is what lets it train in minutes on a CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from phoenix.embeddings import HashedEmbedding
from phoenix.hashing import HashConfig, hash_ids
from phoenix.transformer import Transformer, TransformerConfig, prefix_mask, right_anchored_positions

NUM_ACTION_FEATURES = 64  # ActionName 0..63 = X's discrete heads (reference §4.3.6)
MASKS = ("causal", "bidirectional")
POOLINGS = ("mean", "last")


@dataclass(frozen=True)
class RetrievalConfig:
    """Everything needed to rebuild the model (saved as config.json next to the weights)."""

    dim: int = 64
    transformer: TransformerConfig = field(
        default_factory=lambda: TransformerConfig(
            dim=64, num_layers=2, num_q_heads=2, num_kv_heads=1, head_dim=32
        )
    )
    hashing: HashConfig = field(default_factory=HashConfig)
    max_history: int = 200
    use_user_embedding: bool = True
    mask: str = "causal"
    dropout: float = 0.0  # on the user tower's input tokens, training only (small data overfits)
    # "mean": masked mean over [user | history] outputs (X's pooling); "last": the newest item's
    # output only, as SASRec - with the causal mask it already attends to the whole history and
    # weighs recent items as it learns to, which next-item benchmarks reward
    pooling: str = "mean"

    def __post_init__(self) -> None:
        if self.transformer.dim != self.dim:
            raise ValueError(f"transformer.dim ({self.transformer.dim}) must equal dim ({self.dim})")
        if self.mask not in MASKS:
            raise ValueError(f"mask must be one of {MASKS}, got {self.mask!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.max_history < 1:
            raise ValueError(f"max_history must be >= 1, got {self.max_history}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["transformer"] = self.transformer.to_dict()
        d["hashing"] = self.hashing.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RetrievalConfig:
        d = dict(d)
        d["transformer"] = TransformerConfig(**d["transformer"])
        d["hashing"] = HashConfig(**d["hashing"])
        return cls(**d)


@dataclass
class HistoryBatch:
    """Left-padded user histories (real items occupy the LAST ``lengths[b]`` slots)."""

    user_ids: np.ndarray  # [B]
    post_ids: np.ndarray  # [B, L], 0 = padding
    author_ids: np.ndarray  # [B, L]
    actions: np.ndarray  # [B, L, 64] float multi-hot
    lengths: np.ndarray  # [B]


def pad_histories(
    user_ids, posts: list[np.ndarray], authors: list[np.ndarray], actions: list[np.ndarray], max_len: int
) -> HistoryBatch:
    """Left-pad the newest ``max_len`` items of each history into one batch."""
    b = len(posts)
    width = max(1, min(max_len, max((len(p) for p in posts), default=1)))
    out_p = np.zeros((b, width), np.int64)
    out_a = np.zeros((b, width), np.int64)
    out_x = np.zeros((b, width, NUM_ACTION_FEATURES), np.float32)
    lengths = np.zeros(b, np.int64)
    for i, (p, a, x) in enumerate(zip(posts, authors, actions, strict=True)):
        n = min(len(p), width)
        lengths[i] = n
        if n:
            out_p[i, width - n :] = p[-n:]
            out_a[i, width - n :] = a[-n:]
            out_x[i, width - n :] = x[-n:]
    return HistoryBatch(np.asarray(user_ids, np.int64).reshape(b), out_p, out_a, out_x, lengths)


class TwoTowerModel(nn.Module):
    """User tower + candidate tower over shared hashed id embeddings."""

    def __init__(self, cfg: RetrievalConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h, d = cfg.hashing, cfg.dim
        self.post_emb = HashedEmbedding(h.post_buckets, h.num_hashes, d, d)
        self.author_emb = HashedEmbedding(h.author_buckets, h.num_hashes, d, d)
        self.user_emb = (
            HashedEmbedding(h.user_buckets, h.num_hashes, d, d) if cfg.use_user_embedding else None
        )
        self.user_bias = nn.Parameter(torch.zeros(d))  # the user token when there is no user embedding
        self.action_proj = nn.Linear(NUM_ACTION_FEATURES, d, bias=False)
        self.transformer = Transformer(cfg.transformer)
        self.cand_mlp = nn.Sequential(nn.Linear(2 * d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))

    @property
    def device(self) -> torch.device:
        return self.user_bias.device

    def _rows(self, kind: str, ids: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(hash_ids(kind, ids, self.cfg.hashing)).to(self.device)

    # -- candidate tower -----------------------------------------------------------------------
    def candidate_vectors(self, post_ids, author_ids) -> torch.Tensor:
        """``[N, D]`` unit vectors for posts (ids as numpy / lists)."""
        posts = np.asarray(post_ids, np.int64)
        authors = np.asarray(author_ids, np.int64)
        if posts.shape != authors.shape:
            raise ValueError(f"post ids {posts.shape} and author ids {authors.shape} differ in shape")
        x = torch.cat(
            [self.post_emb(self._rows("post", posts)), self.author_emb(self._rows("author", authors))], -1
        )
        return F.normalize(self.cand_mlp(x), dim=-1, eps=1e-12)

    # -- user tower --------------------------------------------------------------------------------
    def encode_history(self, batch: HistoryBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Transformer outputs ``[B, 1+L, D]`` over ``[user | history]`` and the valid mask ``[B, 1+L]``."""
        b, width = batch.post_ids.shape
        tokens = (
            self.post_emb(self._rows("post", batch.post_ids))
            + self.author_emb(self._rows("author", batch.author_ids))
            + self.action_proj(torch.from_numpy(batch.actions).to(self.device))
        )
        user = self.user_bias.expand(b, 1, -1)
        if self.user_emb is not None:
            user = user + self.user_emb(self._rows("user", batch.user_ids))[:, None, :]
        x = nn.functional.dropout(torch.cat([user, tokens], 1), self.cfg.dropout, self.training) * (self.cfg.dim**0.5)
        lengths = torch.from_numpy(batch.lengths).to(self.device)
        hist_valid = torch.arange(width, device=self.device)[None, :] >= (width - lengths)[:, None]
        valid = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=self.device), hist_valid], 1)
        if self.cfg.mask == "causal":
            # left-anchored (user 0, oldest item 1, ...): a prefix then has exactly the positions it
            # would have on its own, so per-prefix vectors equal separate runs on each prefix
            slot = torch.arange(width, device=self.device)[None, :] - (width - lengths)[:, None] + 1
            positions = torch.cat([torch.zeros(b, 1, dtype=torch.long, device=self.device),
                                   torch.where(hist_valid, slot, torch.zeros_like(slot))], 1)
        else:
            # X's static bounds: the newest item always sits at max_history, whatever the batch width
            positions = right_anchored_positions(1, lengths, width, 0)
            positions[:, 1:] += torch.where(hist_valid, self.cfg.max_history - width, 0)
        mask = prefix_mask(valid)
        if self.cfg.mask == "causal":
            mask = mask & torch.ones(width + 1, width + 1, dtype=torch.bool, device=self.device).tril()[None]
        return self.transformer(x, positions, mask), valid

    def user_vectors(self, batch: HistoryBatch) -> torch.Tensor:
        """``[B, D]`` unit user vectors: masked mean-pool over all valid positions (or the last one)."""
        hidden, valid = self.encode_history(batch)
        if self.cfg.pooling == "last":  # histories are left-padded: the newest item is the last slot
            return F.normalize(hidden[:, -1], dim=-1, eps=1e-12)
        w = valid.to(hidden.dtype)[..., None]
        pooled = (hidden * w).sum(1) / w.sum(1)
        return F.normalize(pooled, dim=-1, eps=1e-12)

    def prefix_user_vectors(self, batch: HistoryBatch) -> torch.Tensor:
        """``[B, L, D]``: slot ``i`` = the user vector of the history up to and including slot ``i``.

        Only meaningful with the causal mask (training uses it to learn every next-item target).
        """
        if self.cfg.mask != "causal":
            raise ValueError("per-prefix user vectors need the causal mask")
        hidden, valid = self.encode_history(batch)
        if self.cfg.pooling == "last":
            return F.normalize(hidden[:, 1:], dim=-1, eps=1e-12)
        w = valid.to(hidden.dtype)[..., None]
        running = (hidden * w).cumsum(1) / w.cumsum(1).clamp_min(1.0)
        return F.normalize(running[:, 1:], dim=-1, eps=1e-12)
