"""The ranker bench's FLOP count: every matrix product and attention kernel a path runs."""

from __future__ import annotations

import torch

from bench.ranker import NOW, _request, executed_flops, kv_forward, x_layout
from phoenix.ranker.config import small_config
from phoenix.ranker.features import build_batch
from phoenix.ranker.model import PhoenixRanker
from phoenix.transformer import Transformer, TransformerConfig


def test_counts_the_projections_mlp_and_the_cpu_attention_kernel() -> None:
    """One unmasked block over T tokens, by hand: q/k/v, output, MLP up and down, and q·kᵀ plus
    p·v for all T x T pairs of every query head (the CPU flash kernel is counted, not skipped)."""
    t, dim, heads, kv_heads, d = 10, 32, 4, 2, 8
    cfg = TransformerConfig(dim=dim, num_layers=1, num_q_heads=heads, num_kv_heads=kv_heads, head_dim=d)
    model = Transformer(cfg).eval()
    x, positions = torch.randn(1, t, dim), torch.arange(t)[None]
    linear = 2 * t * dim * ((heads + 2 * kv_heads) * d + heads * d + 2 * cfg.ffn_dim)
    attention = 2 * 2 * heads * t * t * d
    assert executed_flops(lambda: model(x, positions, None)) == linear + attention


def test_kv_path_does_less_work_than_x_layout_whatever_the_chunk() -> None:
    torch.manual_seed(0)
    cfg = small_config()
    model = PhoenixRanker(cfg).eval()
    req = _request(cfg, 100)
    batch = build_batch([req.user], [req.candidates], NOW, cfg)
    whole = executed_flops(lambda: kv_forward(model, batch, chunk=128))
    chunked = executed_flops(lambda: kv_forward(model, batch, chunk=32))
    x = executed_flops(lambda: model(x_layout(batch)))
    # The prefix is computed, and prepared for candidates, once per request however it is chunked;
    # X's layout recomputes it for every 64 candidates (here 2 sequences) and attends over them.
    assert whole == chunked
    assert x > whole
