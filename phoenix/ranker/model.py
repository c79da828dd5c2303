"""``PhoenixRanker``: tokens ``[user | history | candidates]`` through the shared transformer.

Token construction is "project-then-sum" (reference §4.3.3): each hashed id row gets its own
projection, and every feature embedding of a token is added into one model-width vector.

* user token      = Σ_h proj_h(user_table[user_hash_h])
* history token   = post + author embeddings + Σ(action rows of the actions taken, over the
                    64-slot ActionName taxonomy) + product-surface embedding + dwell·vector
* candidate token = post + author embeddings + product-surface + post-age-bucket + in-network
                    + MLP(log2 engagement counts) + post-kind flags (reply/retweet/quote/video)
                    + semantic ids + MLP(history-match features: how the user's own history
                    treated this topic and author, ``history_match``)

Two equivalent ways to score (tests hold them within 1e-4):

* ``forward``: the whole sequence under X's ranker mask (training; the reference path).
* ``encode_prefix`` + ``score_cached``: user/history once, then any candidate chunks against
  the cached keys/values (serving).
"""

from __future__ import annotations

import torch
from torch import nn

from phoenix.actions import DWELL_CLIP_S, NUM_DISCRETE, OUTPUT_SLOTS
from phoenix.embeddings import HashedEmbedding
from phoenix.ranker.config import (
    AGE_BUCKETS,
    NUM_USER_PREFIX_TOKENS,
    PRODUCT_SURFACES,
    SID_LEVELS,
    RankerConfig,
)
from phoenix.ranker.features import NUM_COUNTS, NUM_KIND_FLAGS, RankerBatch
from phoenix.ranker.history_match import NUM_MATCH_FEATURES
from phoenix.transformer import KVCache, Transformer, prefix_mask, ranker_mask, right_anchored_positions


class PhoenixRanker(nn.Module):
    def __init__(self, cfg: RankerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, hc = cfg.dim, cfg.hashing
        self.user_emb = HashedEmbedding(hc.user_buckets, hc.num_hashes, cfg.table_dim, d)
        self.post_emb = HashedEmbedding(hc.post_buckets, hc.num_hashes, cfg.table_dim, d)
        # Post rows start at zero: a post never seen in training (most of a later period's posts)
        # then contributes nothing, exactly like a post id blanked by training's post-id dropout,
        # instead of a random vector the model has never learnt to ignore.
        nn.init.zeros_(self.post_emb.table.weight)
        self.author_emb = HashedEmbedding(hc.author_buckets, hc.num_hashes, cfg.table_dim, d)
        self.action_emb = nn.Linear(OUTPUT_SLOTS, d, bias=False)  # multi-hot @ [64, D]
        self.surface_emb = nn.Embedding(PRODUCT_SURFACES, d)
        self.age_emb = nn.Embedding(AGE_BUCKETS, d)
        self.in_network_emb = nn.Embedding(2, d)
        # Engagement counts -> small gelu MLP -> D (reference §4.3.3 context features).
        self.counts_mlp = nn.Sequential(
            nn.Linear(NUM_COUNTS, 64), nn.GELU(approximate="tanh"), nn.Linear(64, d, bias=False)
        )
        self.kind_emb = nn.Linear(NUM_KIND_FLAGS, d, bias=False) if cfg.post_kind_features else None
        self.sid_tables: nn.ModuleList | None = None
        self.sid_proj: nn.Linear | None = None
        if cfg.semantic_id_features:
            # Row 0 of every level = unknown: a zero row, and the projection has no bias, so a
            # post without SIDs (or a padded slot) adds nothing.
            self.sid_tables = nn.ModuleList(
                nn.Embedding(cfg.sid_vocab, cfg.table_dim, padding_idx=0) for _ in range(SID_LEVELS)
            )
            self.sid_proj = nn.Linear(cfg.table_dim, d, bias=False)
        self.match_mlp: nn.Sequential | None = None
        if cfg.history_match_features:
            self.match_mlp = nn.Sequential(
                nn.Linear(NUM_MATCH_FEATURES, 64), nn.GELU(approximate="tanh"), nn.Linear(64, d, bias=False)
            )
        self.dwell_vec = nn.Parameter(torch.randn(d) * d**-0.5)
        for emb in (self.surface_emb, self.age_emb, self.in_network_emb):
            nn.init.normal_(emb.weight, std=d**-0.5)
        self.transformer = Transformer(cfg.transformer)
        self.action_head = nn.Linear(d, NUM_DISCRETE)
        self.dwell_head = nn.Linear(d, 1)

    # ------------------------------------------------------------------ tokens

    def _sid(self, sids: torch.Tensor) -> torch.Tensor | None:
        """[..., SID_LEVELS] table rows -> [..., D] (None when the config has no SIDs)."""
        if self.sid_tables is None or self.sid_proj is None:
            return None
        summed = sum(table(sids[..., lvl]) for lvl, table in enumerate(self.sid_tables))
        return self.sid_proj(summed)

    def prefix_tokens(self, batch: RankerBatch) -> torch.Tensor:
        """[B, 1+S, D] user + history tokens (padded history slots are all-zero ids)."""
        user = self.user_emb(batch.user_rows)[:, None]
        hist = (
            self.post_emb(batch.hist_post_rows)
            + self.author_emb(batch.hist_author_rows)
            + self.action_emb(batch.hist_actions)
            + self.surface_emb(batch.hist_surface)
            + batch.hist_dwell[..., None] * self.dwell_vec
        )
        sid = self._sid(batch.hist_sid)
        if sid is not None:
            hist = hist + sid
        hist = hist * batch.prefix_valid[:, NUM_USER_PREFIX_TOKENS:, None]
        return torch.cat([user, hist], 1)

    def candidate_tokens(self, batch: RankerBatch) -> torch.Tensor:
        tokens = (
            self.post_emb(batch.cand_post_rows)
            + self.author_emb(batch.cand_author_rows)
            + self.surface_emb(batch.cand_surface)
            + self.age_emb(batch.cand_age)
            + self.in_network_emb(batch.cand_in_network)
            + self.counts_mlp(batch.cand_counts)
        )
        if self.kind_emb is not None:
            tokens = tokens + self.kind_emb(batch.cand_kind)
        sid = self._sid(batch.cand_sid)
        if sid is not None:
            tokens = tokens + sid
        if self.match_mlp is not None:
            tokens = tokens + self.match_mlp(batch.cand_match)
        return tokens

    def _positions(self, batch: RankerBatch, num_candidates: int) -> torch.Tensor:
        """Right-anchored positions of the configured layout (newest item at ``num_prefix - 1``),
        cut to the batch's history width (see ``_trimmed``)."""
        full = right_anchored_positions(
            NUM_USER_PREFIX_TOKENS, batch.hist_len, self.cfg.history_len, num_candidates
        )
        cut = self.cfg.history_len - batch.hist_surface.shape[1]
        return torch.cat([full[:, :NUM_USER_PREFIX_TOKENS], full[:, NUM_USER_PREFIX_TOKENS + cut :]], 1)

    @staticmethod
    def _trimmed(batch: RankerBatch) -> RankerBatch:
        """History slots that are padding in EVERY row are dropped: a padded slot is masked for
        every real token, so this changes no score, and a batch of full histories then needs no
        attention mask at all over its prefix."""
        return batch.recent_history(int(batch.hist_len.max())) if batch.hist_len.numel() else batch

    def _heads(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Action logits [B, C, A] and predicted dwell in seconds [B, C]."""
        dwell = torch.sigmoid(self.dwell_head(hidden).squeeze(-1)) * DWELL_CLIP_S
        return self.action_head(hidden), dwell

    # ------------------------------------------------------------------ paths

    def forward(self, batch: RankerBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Full-sequence masked path: (logits [B, C, A], dwell seconds [B, C])."""
        batch = self._trimmed(batch)
        prefix = self.prefix_tokens(batch)
        cands = self.candidate_tokens(batch)
        p, c = prefix.shape[1], cands.shape[1]
        mask = ranker_mask(p, c, key_valid=batch.prefix_valid)
        hidden = self.transformer(torch.cat([prefix, cands], 1), self._positions(batch, c), mask)
        return self._heads(hidden[:, p:])

    def encode_prefix(self, batch: RankerBatch) -> KVCache:
        """Run user + history once; the returned cache scores any candidates of these users."""
        batch = self._trimmed(batch)
        prefix = self.prefix_tokens(batch)
        valid = batch.prefix_valid
        mask = None if bool(valid.all()) else prefix_mask(valid)
        return self.transformer.prefix_cache(prefix, self._positions(batch, 0), mask, valid)

    def score_cached(self, cache: KVCache, batch: RankerBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Score ``batch``'s candidates against ``cache`` (one cache row per batch row)."""
        cands = self.candidate_tokens(batch)
        positions = self._candidate_positions(cache, cands.device)
        return self._heads(self.transformer.forward_cached(cands, positions, cache))

    def prepare_cache(self, cache: KVCache) -> None:
        """Build now the per-layer candidate views every ``score_cached`` on ``cache`` reuses (at
        inference), so chunks scored concurrently share one set instead of each building its own."""
        positions = self._candidate_positions(cache, cache.key_valid.device)[:, 0]
        self.transformer.candidate_views(cache, positions, self.dwell_vec.dtype)  # the tokens' dtype

    def _candidate_positions(self, cache: KVCache, device: torch.device) -> torch.Tensor:
        """[B, 1]: every candidate sits at position H (right-anchored scheme)."""
        return torch.full((cache.batch_size, 1), self.cfg.num_prefix, dtype=torch.long, device=device)
