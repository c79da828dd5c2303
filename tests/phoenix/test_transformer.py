from __future__ import annotations

import pytest
import torch

from phoenix.transformer import (
    Transformer,
    TransformerConfig,
    prefix_mask,
    ranker_mask,
    right_anchored_positions,
)


def test_ranker_mask_is_x_production_mask() -> None:
    m = ranker_mask(3, 2)
    expected = torch.tensor(
        [
            [1, 1, 1, 0, 0],
            [1, 1, 1, 0, 0],
            [1, 1, 1, 0, 0],
            [1, 1, 1, 1, 0],
            [1, 1, 1, 0, 1],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(m, expected)
    valid = torch.tensor([[True, False, True]])
    mv = ranker_mask(3, 2, key_valid=valid)[0]
    assert not mv[0, 1] and mv[1, 1] and not mv[3, 1] and mv[3, 3] and not mv[3, 4]


def test_prefix_mask_never_has_empty_rows() -> None:
    m = prefix_mask(torch.tensor([[True, True, False], [False, False, False]]))
    assert m.shape == (2, 3, 3) and m.any(-1).all()
    assert not m[0, 0, 2] and m[0, 2, 2]


def test_right_anchored_positions() -> None:
    pos = right_anchored_positions(1, torch.tensor([2, 0, 4]), 4, 3)
    assert pos[0].tolist() == [0, 0, 0, 3, 4, 5, 5, 5]
    assert pos[1].tolist() == [0, 0, 0, 0, 0, 5, 5, 5]
    assert pos[2].tolist() == [0, 1, 2, 3, 4, 5, 5, 5]
    right = right_anchored_positions(1, torch.tensor([2]), 4, 1, left_padded=False)
    assert right[0].tolist() == [0, 3, 4, 0, 0, 5]
    with pytest.raises(ValueError, match="history lengths"):
        right_anchored_positions(1, torch.tensor([5]), 4, 1)


def _setup(batch: int = 2, prefix: int = 6, cands: int = 5):
    torch.manual_seed(0)
    cfg = TransformerConfig(dim=32, num_layers=2, num_q_heads=4, num_kv_heads=2, head_dim=8)
    model = Transformer(cfg).eval()
    x = torch.randn(batch, prefix + cands, cfg.dim)
    lengths = torch.tensor([3, 5][:batch])
    pos = right_anchored_positions(1, lengths, prefix - 1, cands)
    valid = torch.ones(batch, prefix, dtype=torch.bool)
    valid[:, 1:] = torch.arange(prefix - 1) >= (prefix - 1 - lengths)[:, None]
    return model, x, pos, valid, prefix


def test_kv_cached_path_equals_full_masked_path() -> None:
    model, x, pos, valid, p = _setup()
    with torch.no_grad():
        full = model(x, pos, ranker_mask(p, x.shape[1] - p, key_valid=valid))[:, p:]
        _, cache = model.forward_prefix(x[:, :p], pos[:, :p], prefix_mask(valid), valid)
        cached = torch.cat(
            [
                model.forward_cached(x[:, p + i : p + i + 2], pos[:, p + i : p + i + 2], cache)
                for i in range(0, 5, 2)
            ],
            1,
        )
    assert torch.allclose(full, cached, atol=1e-5)


@pytest.mark.parametrize(
    "qk_norm, kv_heads", [(True, 4), (False, 2), (False, 1)], ids=["qk-norm-mha", "gqa", "mqa"]
)
def test_kv_cached_path_equals_full_path_for_every_head_layout(qk_norm: bool, kv_heads: int) -> None:
    """The cached path folds the query's rotation and qk-norm weight into the cached keys and
    repeats them per query head: exact for multi-, grouped- and multi-query attention, with and
    without qk-norm (trained norm weights, not the all-ones init)."""
    torch.manual_seed(1)
    cfg = TransformerConfig(
        dim=32, num_layers=2, num_q_heads=4, num_kv_heads=kv_heads, head_dim=8, qk_norm=qk_norm
    )
    model = Transformer(cfg).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.uniform_(0.5, 1.5)
    _, x, pos, valid, p = _setup()
    with torch.no_grad():
        full = model(x, pos, ranker_mask(p, x.shape[1] - p, key_valid=valid))[:, p:]
        _, cache = model.forward_prefix(x[:, :p], pos[:, :p], prefix_mask(valid), valid)
        first = model.forward_cached(x[:, p : p + 3], pos[:, p : p + 3], cache)
        second = model.forward_cached(x[:, p + 3 :], pos[:, p + 3 :], cache)  # reuses the views
    assert cache.views is not None
    assert torch.allclose(full, torch.cat([first, second], 1), atol=1e-5)


def test_candidates_are_isolated() -> None:
    model, x, pos, valid, p = _setup()
    with torch.no_grad():
        full = model(x, pos, ranker_mask(p, 5, key_valid=valid))[:, p:]
        perm = torch.tensor([4, 2, 0, 3, 1])
        x2 = torch.cat([x[:, :p], x[:, p:][:, perm]], 1)
        permuted = model(x2, pos, ranker_mask(p, 5, key_valid=valid))[:, p:]
        single = model(x[:, : p + 1], pos[:, : p + 1], ranker_mask(p, 1, key_valid=valid))[:, p:]
    assert torch.allclose(full[:, perm], permuted, atol=1e-5)
    assert torch.allclose(full[:, :1], single, atol=1e-5)


def test_gqa_config_is_validated() -> None:
    with pytest.raises(ValueError, match="multiple"):
        TransformerConfig(num_q_heads=3, num_kv_heads=2)


def test_rotation_matrix_is_the_rotary_embedding() -> None:
    from phoenix.transformer import apply_rope, rope_tables, rotation_matrices

    positions = torch.tensor([0, 7, 300])
    x = torch.randn(3, 5, 16)
    rot = rotation_matrices(positions, 16, 10_000.0, torch.float32)
    by_tables = apply_rope(x[:, None], rope_tables(positions[:, None], 16, 10_000.0, torch.float32))[:, 0]
    assert torch.allclose(x @ rot, by_tables, atol=1e-5)


def test_cached_path_without_the_fused_kernel_gives_the_same_scores(monkeypatch) -> None:
    import phoenix.transformer as transformer

    model, x, pos, valid, p = _setup()
    with torch.no_grad():
        _, cache = model.forward_prefix(x[:, :p], pos[:, :p], prefix_mask(valid), valid)
        fused = model.forward_cached(x[:, p:], pos[:, p:], cache)
        monkeypatch.setattr(transformer, "_FLASH_CPU", None)
        written_out = model.forward_cached(x[:, p:], pos[:, p:], cache)
    assert torch.allclose(fused, written_out, atol=1e-5)


def test_cached_path_needs_one_position_per_row() -> None:
    model, x, pos, valid, p = _setup()
    with torch.no_grad():
        _, cache = model.forward_prefix(x[:, :p], pos[:, :p], prefix_mask(valid), valid)
        mixed = pos[:, p:].clone()
        mixed[0, 1] += 1
        with pytest.raises(ValueError, match="one position"):
            model.forward_cached(x[:, p:], mixed, cache)
        with pytest.raises(ValueError, match="positions must be"):
            model.forward_cached(x[:, p:], pos[:, p : p + 2], cache)


def test_unmasked_prefix_equals_an_all_true_mask() -> None:
    model, x, pos, _, p = _setup()
    valid = torch.ones(2, p, dtype=torch.bool)
    with torch.no_grad():
        masked = model(x[:, :p], pos[:, :p], prefix_mask(valid))
        unmasked = model(x[:, :p], pos[:, :p], None)
    assert torch.allclose(masked, unmasked, atol=1e-5)


def test_dropout_acts_only_while_training() -> None:
    torch.manual_seed(0)
    cfg = TransformerConfig(dim=32, num_layers=2, num_q_heads=4, num_kv_heads=2, head_dim=8, dropout=0.5)
    model = Transformer(cfg)
    x, pos = torch.randn(1, 5, 32), torch.arange(5)[None]
    model.train()
    assert not torch.allclose(model(x, pos, None), model(x, pos, None))
    model.eval()
    assert torch.equal(model(x, pos, None), model(x, pos, None))
    with pytest.raises(ValueError, match="dropout"):
        TransformerConfig(dropout=1.0)


def test_prefix_cache_equals_the_full_prefix_pass() -> None:
    model, x, pos, valid, p = _setup()
    with torch.no_grad():
        _, full = model.forward_prefix(x[:, :p], pos[:, :p], prefix_mask(valid), valid)
        lean = model.prefix_cache(x[:, :p], pos[:, :p], prefix_mask(valid), valid)
    for a, b in zip(full.keys + full.values, lean.keys + lean.values, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert torch.equal(full.key_valid, lean.key_valid)
