"""The transformer shared by the Phoenix ranker and the retrieval user tower.

Pre-norm blocks (RMSNorm -> grouped-query attention -> residual; RMSNorm -> gelu MLP ->
residual), optional qk-norm, rotary positions supplied by the caller, and an explicit boolean
attention mask (``True`` = the query may attend to the key), so the SAME weights serve both
masks the models need:

* ``ranker_mask``: X's production mask (reference §4.3.4). User and history tokens attend
  bidirectionally to each other and never to candidates; each candidate attends to every
  user/history token and to itself only. This is what makes a candidate's score independent of
  the other candidates ("candidate isolation").
* ``prefix_mask``: the retrieval user tower - bidirectional over the valid (non-padding) tokens.

Because user/history tokens never look at candidates, their keys/values do not depend on the
candidates at all: ``Transformer.forward_prefix`` computes them once per user and returns a
``KVCache``; ``Transformer.forward_cached`` then scores any number of candidates, in any chunks,
against that cache (each candidate: the cached prefix keys plus its own key). That path equals the
full masked path exactly up to float rounding and costs O(C·P) attention instead of O((P+C)²).

Positions come from ``right_anchored_positions`` (reference §4.3.4): the newest history item
always sits at position H-1 and every candidate at position H, so a candidate's score never
depends on its slot or on how long the user's history is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TransformerConfig:
    dim: int = 128
    num_layers: int = 4
    num_q_heads: int = 4
    num_kv_heads: int = 2
    head_dim: int = 32
    ffn_multiplier: float = 2.0
    qk_norm: bool = True
    rope_base: float = 10_000.0
    dropout: float = 0.0  # on each block's attention and MLP outputs, while training only

    def __post_init__(self) -> None:
        if self.num_q_heads % self.num_kv_heads:
            raise ValueError(
                f"num_q_heads ({self.num_q_heads}) must be a multiple of num_kv_heads ({self.num_kv_heads})"
            )
        if self.head_dim % 2:
            raise ValueError(f"head_dim must be even for rotary positions, got {self.head_dim}")
        if min(self.dim, self.num_layers, self.num_q_heads, self.num_kv_heads, self.head_dim) < 1:
            raise ValueError(f"all transformer sizes must be positive: {self}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def ffn_dim(self) -> int:
        """Hidden MLP width, rounded up to a multiple of 32 as X does."""
        return int(math.ceil(self.dim * self.ffn_multiplier / 32) * 32)

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:  # torch's fused kernel: the same sums, fewer passes
            return F.rms_norm(x, self.weight.shape, self.weight, self.eps)
        xf = x.float()
        normed = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return normed.to(x.dtype) * self.weight


# ---------------------------------------------------------------------------------------- positions


def right_anchored_positions(
    num_prefix: int,
    history_lengths: torch.Tensor,
    history_len: int,
    num_candidates: int,
    *,
    left_padded: bool = True,
) -> torch.Tensor:
    """Rotary positions ``[B, num_prefix + history_len + num_candidates]`` (reference §4.3.4).

    Prefix (user) tokens get 0..P-1; the i-th of the L real history items gets ``H - L + i`` with
    ``H = P + history_len`` (newest at H-1); padding gets 0; every candidate gets H. With
    ``left_padded`` (our default layout) the real items occupy the LAST L history slots.
    """
    lengths = history_lengths.to(torch.long).reshape(-1)
    if bool(((lengths < 0) | (lengths > history_len)).any()):
        raise ValueError(f"history lengths must be in [0, {history_len}], got {lengths.tolist()}")
    batch = lengths.shape[0]
    device = lengths.device
    big_h = num_prefix + history_len
    slots = torch.arange(history_len, device=device).expand(batch, history_len)
    if left_padded:
        real = slots >= (history_len - lengths)[:, None]
        index_in_real = slots - (history_len - lengths)[:, None]
    else:
        real = slots < lengths[:, None]
        index_in_real = slots
    hist_pos = torch.where(real, big_h - lengths[:, None] + index_in_real, torch.zeros_like(slots))
    prefix_pos = torch.arange(num_prefix, device=device).expand(batch, num_prefix)
    cand_pos = torch.full((batch, num_candidates), big_h, device=device, dtype=torch.long)
    return torch.cat([prefix_pos, hist_pos, cand_pos], dim=1)


def rope_tables(
    positions: torch.Tensor, head_dim: int, base: float, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin ``[B, 1, T, head_dim/2]`` for ``positions [B, T]``; computed once per forward."""
    half = head_dim // 2
    inv_freq = base ** (-torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    angles = positions.to(torch.float32)[..., None] * inv_freq
    return angles.cos()[:, None].to(dtype), angles.sin()[:, None].to(dtype)


def apply_rope(x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Rotate ``x [B, heads, T, d]`` by precomputed ``rope_tables`` (half-split rotary embedding)."""
    cos, sin = rope
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def rotation_matrices(
    positions: torch.Tensor, head_dim: int, base: float, dtype: torch.dtype
) -> torch.Tensor:
    """``[B, d, d]`` with ``x @ R[b] == apply_rope(x, rope_tables(positions[b]))`` (one position
    per row): the rotary embedding as a matrix, for tokens that all share a position."""
    cos, sin = rope_tables(positions.reshape(-1, 1), head_dim, base, dtype)
    cos, sin = cos.reshape(-1, head_dim // 2), sin.reshape(-1, head_dim // 2)
    half = head_dim // 2
    idx = torch.arange(half, device=positions.device)
    rot = torch.zeros(positions.numel(), head_dim, head_dim, dtype=dtype, device=positions.device)
    rot[:, idx, idx] = cos
    rot[:, idx + half, idx + half] = cos
    rot[:, idx + half, idx] = -sin
    rot[:, idx, idx + half] = sin
    return rot


# ---------------------------------------------------------------------------------------- masks


def ranker_mask(
    num_prefix_and_history: int,
    num_candidates: int,
    key_valid: torch.Tensor | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """X's production ranker mask, ``[T, T]`` (or ``[B, T, T]`` with ``key_valid [B, P+S]``).

    ``allowed(q, k) = (k < H and (q < H or q is a candidate)) or (q == k and q is a candidate)``.
    With ``key_valid`` the padded user/history keys are also masked out (every query still has
    at least the always-valid user token or itself, so no row is empty).
    """
    big_h, total = num_prefix_and_history, num_prefix_and_history + num_candidates
    if key_valid is not None:
        device = key_valid.device
    idx = torch.arange(total, device=device)
    q, k = idx[:, None], idx[None, :]
    allowed = (k < big_h) | ((q >= big_h) & (q == k))
    if key_valid is None:
        return allowed
    if key_valid.shape[-1] != big_h:
        raise ValueError(f"key_valid covers {key_valid.shape[-1]} positions, expected {big_h}")
    valid = torch.cat(
        [key_valid.bool(), torch.ones(key_valid.shape[0], num_candidates, dtype=torch.bool, device=device)], 1
    )
    return allowed[None] & (valid[:, None, :] | (q == k)[None])


def prefix_mask(key_valid: torch.Tensor) -> torch.Tensor:
    """Bidirectional mask over valid tokens, ``[B, T, T]`` from ``key_valid [B, T]``.

    A padded query also sees itself, so an all-padding row never yields NaN.
    """
    valid = key_valid.bool()
    eye = torch.eye(valid.shape[1], dtype=torch.bool, device=valid.device)
    return valid[:, None, :] | eye[None]


# ---------------------------------------------------------------------------------------- layers


@dataclass
class KVCache:
    """Per-layer rotated keys/values of a prefix, ``[B, kv_heads, P, head_dim]`` each."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    key_valid: torch.Tensor  # [B, P] bool: which prefix tokens candidates may attend to
    # ``Transformer.forward_cached``'s per-layer candidate views of these keys, with the candidate
    # positions they were made for: every chunk of a request reuses them.
    views: tuple[torch.Tensor, list[CandidateView], torch.Tensor | None] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def batch_size(self) -> int:
        return self.key_valid.shape[0]

    def select(self, index: torch.Tensor) -> KVCache:
        """Rows ``index`` of the batch (e.g. to repeat one user's prefix for several chunks)."""
        return KVCache(
            [k.index_select(0, index) for k in self.keys],
            [v.index_select(0, index) for v in self.values],
            self.key_valid.index_select(0, index),
        )


Rope = tuple[torch.Tensor, torch.Tensor]


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # One fused projection for q, k and v: a single matmul per layer instead of three.
        self.qkv_proj = nn.Linear(
            cfg.dim, (cfg.num_q_heads + 2 * cfg.num_kv_heads) * cfg.head_dim, bias=False
        )
        self.o_proj = nn.Linear(cfg.num_q_heads * cfg.head_dim, cfg.dim, bias=False)
        self.q_norm = RMSNorm(cfg.head_dim) if cfg.qk_norm else nn.Identity()
        self.k_norm = RMSNorm(cfg.head_dim) if cfg.qk_norm else nn.Identity()

    def _qkv(self, x: torch.Tensor, rope: Rope) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, t, _ = x.shape
        c = self.cfg
        qkv = self.qkv_proj(x).view(b, t, c.num_q_heads + 2 * c.num_kv_heads, c.head_dim)
        q, k, v = qkv.split([c.num_q_heads, c.num_kv_heads, c.num_kv_heads], dim=2)
        q = self.q_norm(q).transpose(1, 2)
        k = self.k_norm(k).transpose(1, 2)
        v = v.transpose(1, 2)
        return apply_rope(q, rope), apply_rope(k, rope), v

    def keys_values(self, x: torch.Tensor, rope: Rope) -> tuple[torch.Tensor, torch.Tensor]:
        """This layer's rotated K and V ``[B, kv_heads, T, d]`` alone (the k/v rows of the fused
        projection, no queries, no attention)."""
        b, t, _ = x.shape
        c = self.cfg
        kv_rows = self.qkv_proj.weight[c.num_q_heads * c.head_dim :]
        k, v = F.linear(x, kv_rows).view(b, t, 2 * c.num_kv_heads, c.head_dim).chunk(2, dim=2)
        return apply_rope(self.k_norm(k).transpose(1, 2), rope), v.transpose(1, 2)

    def forward(
        self, x: torch.Tensor, rope: Rope, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Full masked attention (``mask`` None: every token sees every token); also returns this
        layer's rotated K and V ``[B, kv_heads, T, d]``."""
        b, t, _ = x.shape
        q, k, v = self._qkv(x, rope)
        attn_mask = mask
        if mask is not None and mask.dim() != 4:
            attn_mask = mask[None, None] if mask.dim() == 2 else mask[:, None]
        groups = self.cfg.num_q_heads // self.cfg.num_kv_heads
        out = F.scaled_dot_product_attention(
            q, k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1), attn_mask=attn_mask
        )
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1)), k, v

    def candidate_view(
        self, rotation: torch.Tensor, cache_k: torch.Tensor, cache_v: torch.Tensor
    ) -> CandidateView:
        """The cached prefix as queries at the rotary position ``rotation [B, d, d]`` see it.

        A candidate's final query is ``unit(q) · diag(w_q) · R · s`` (qk-norm weight ``w_q``,
        rotation ``R`` of the shared candidate position, scale ``s = 1/sqrt(d)``), so its score
        against a cached, already rotated key ``k_j`` is ``unit(q) · (k_j Rᵀ ⊙ w_q · s)``: folding
        ``Rᵀ``, ``w_q`` and ``s`` into the P cached keys once per request (``Transformer`` keeps
        the views on the ``KVCache``) leaves the C candidate queries nothing to do but their RMS
        normalisation. Against its OWN key, rotated by the same
        ``R``, the rotation cancels (``R Rᵀ = I``): ``own = Σ unit(q) · unit(k) · w_q · w_k · s``.
        Keys and values are repeated to one per query head (a copy of P rows, not C) so the
        queries enter the fused kernel as a strided view, with no copy either way.
        """
        c = self.cfg
        groups = c.num_q_heads // c.num_kv_heads
        scale = c.head_dim**-0.5
        if c.qk_norm:
            q_weight = self.q_norm.weight * scale
            own_weight = q_weight * self.k_norm.weight
        else:
            q_weight = own_weight = torch.full(
                (c.head_dim,), scale, dtype=cache_k.dtype, device=cache_k.device
            )
        keys = (torch.matmul(cache_k, rotation.transpose(-1, -2)[:, None]) * q_weight).to(cache_v.dtype)
        return CandidateView(
            keys.repeat_interleave(groups, 1), cache_v.repeat_interleave(groups, 1), own_weight
        )

    def forward_cached(
        self, x: torch.Tensor, view: CandidateView, key_bias: torch.Tensor | None
    ) -> torch.Tensor:
        """Candidates attend to the cached prefix keys and to themselves only (never to each other).

        The softmax over [prefix keys..., own key] splits exactly into the attention over the
        prefix alone (``out_p``, with its log-sum-exp ``lse``) and the own term: with
        ``w = sigmoid(own_score - lse)``, the result is ``(1 - w) · out_p + w · v_own``
        (``torch.lerp``). The prefix part is one fused attention kernel over ``view``
        (``candidate_view``); its output is laid out token-major, so it feeds ``o_proj`` as it is.
        ``key_bias [B, 1, 1, P]`` is 0 for valid prefix keys and -inf for padding (None: all valid).
        """
        b, t, _ = x.shape
        c = self.cfg
        h, kvh, d = c.num_q_heads, c.num_kv_heads, c.head_dim
        qk, v = self.qkv_proj(x).view(b, t, h + 2 * kvh, d).split([h + kvh, kvh], dim=2)
        if c.qk_norm:  # one pass over the query and key heads (same width, same eps)
            qk = _unit_rms(qk, self.q_norm.eps)
        q, k = qk.split([h, kvh], dim=2)
        own = (q.view(b, t, kvh, h // kvh, d) * (k * view.own_weight)[:, :, :, None]).sum(-1)
        out_p, lse = _prefix_attention(q.transpose(1, 2), view.keys, view.values, key_bias)
        w = torch.sigmoid(own.view(b, t, h) - lse.transpose(1, 2))  # weight of the own key
        dt = out_p.dtype  # autocast can leave v, w and out_p in different dtypes; lerp needs one
        out = torch.lerp(
            out_p.transpose(1, 2).reshape(b, t, kvh, h // kvh, d),
            v[:, :, :, None].to(dt),
            w.reshape(b, t, kvh, -1, 1).to(dt),
        )
        return self.o_proj(out.reshape(b, t, h * d))


@dataclass
class CandidateView:
    """One layer's cached prefix prepared for candidate queries (``Attention.candidate_view``)."""

    # [B, q_heads, P, d] each; the keys turned back by the candidates' rotation, q weight and scale
    # folded in
    keys: torch.Tensor
    values: torch.Tensor
    own_weight: torch.Tensor  # [d]: w_q · w_k · scale, for a candidate's score against its own key


def _unit_rms(x: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm without its weight (the cached path folds the weights into ``CandidateView``)."""
    return F.rms_norm(x, x.shape[-1:], None, eps)


_FLASH_CPU = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
# CUDA's memory-efficient kernel also returns the log-sum-exp (rows padded to a multiple of 32):
# one launch instead of the six the written-out sums take, and a GPU this small is launch-bound.
_EFFICIENT_CUDA = getattr(torch.ops.aten, "_scaled_dot_product_efficient_attention", None)


def _prefix_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention of pre-scaled ``q [B, G, M, d]`` over ``k, v [B, G, P, d]``: (output, log-sum-exp
    ``[B, G, M]``). At inference it is one fused kernel that also returns the log-sum-exp the split
    softmax needs: torch's flash kernel on CPU, the memory-efficient one on CUDA; with autograd,
    elsewhere, or without those kernels, the same sums written out. Queries and bias take the
    keys' dtype (they differ under autocast; a no-op otherwise)."""
    q = q.to(k.dtype)
    if key_bias is not None:
        key_bias = key_bias.to(k.dtype)
    if _FLASH_CPU is not None and q.device.type == "cpu" and not torch.is_grad_enabled():
        return _FLASH_CPU(q, k, v, attn_mask=key_bias, scale=1.0)
    if _EFFICIENT_CUDA is not None and q.device.type == "cuda" and not torch.is_grad_enabled():
        bias = None if key_bias is None else _aligned_bias(key_bias).expand(*q.shape[:3], k.shape[2])
        out, lse = _EFFICIENT_CUDA(q, k, v, bias, True, scale=1.0)[:2]
        return out, lse[..., : q.shape[2]]
    scores = q @ k.transpose(-1, -2)
    if key_bias is not None:
        scores = scores + key_bias
    lse = torch.logsumexp(scores, -1)
    return torch.exp(scores - lse[..., None]) @ v, lse


def _aligned_bias(key_bias: torch.Tensor) -> torch.Tensor:
    """``key_bias [B, 1, 1, P]`` as a view into storage whose rows are padded to a multiple of 16
    (the CUDA kernel reads the bias with aligned loads; SDPA's own wrapper pads the same way).
    Already aligned (``Transformer.candidate_views`` builds it so, once per request): as it is."""
    if all(stride % 16 == 0 for stride in key_bias.stride()[:-1]):
        return key_bias
    p = key_bias.shape[-1]
    padded = key_bias.new_zeros(*key_bias.shape[:-1], -(-p // 16) * 16)
    padded[..., :p] = key_bias
    return padded[..., :p]


class MLP(nn.Module):
    """Non-gated gelu(tanh) MLP without bias (X's [Aug] FFN)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.up = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.down = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.up(x)
        if torch.is_grad_enabled() or hidden.device.type != "cpu":  # one fused kernel off the CPU
            return self.down(F.gelu(hidden, approximate="tanh"))
        return self.down(_gelu_tanh_inplace(hidden))


_GELU_C = 2.0 * math.sqrt(2.0 / math.pi)


def _gelu_tanh_inplace(x: torch.Tensor) -> torch.Tensor:
    """gelu(tanh) of ``x`` overwriting it, via 0.5·(1 + tanh(z)) == sigmoid(2z): the same function
    as ``F.gelu(approximate="tanh")`` (within float rounding), but torch's sigmoid is vectorised
    where its tanh is not, so inference takes about half the time. No autograd: inference only."""
    z = x * x
    z.mul_(0.044715 * _GELU_C).add_(_GELU_C).mul_(x)
    return x.mul_(z.sigmoid_())


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.dim)
        self.mlp = MLP(cfg)

    def forward(
        self, x: torch.Tensor, rope: Rope, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p = self.attn.cfg.dropout if self.training else 0.0
        attn_out, k, v = self.attn(self.attn_norm(x), rope, mask)
        if p:
            attn_out = F.dropout(attn_out, p)
        x = x + attn_out
        mlp_out = self.mlp(self.mlp_norm(x))
        if p:
            mlp_out = F.dropout(mlp_out, p)
        return x + mlp_out, k, v

    def forward_cached(
        self, x: torch.Tensor, view: CandidateView, key_bias: torch.Tensor | None
    ) -> torch.Tensor:
        x = x + self.attn.forward_cached(self.attn_norm(x), view, key_bias)
        return x + self.mlp(self.mlp_norm(x))


class Transformer(nn.Module):
    """A stack of pre-norm blocks plus a final RMSNorm; see the module docstring for the two paths."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.final_norm = RMSNorm(cfg.dim)

    def _rope(self, positions: torch.Tensor, dtype: torch.dtype) -> Rope:
        return rope_tables(positions, self.cfg.head_dim, self.cfg.rope_base, dtype)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Hidden states ``[B, T, D]`` of a full sequence under ``mask`` (``[T,T]``/``[B,T,T]``;
        None = no mask)."""
        return self.forward_prefix(x, positions, mask, key_valid=None)[0]

    def forward_prefix(
        self,
        x: torch.Tensor,
        positions: torch.Tensor,
        mask: torch.Tensor | None,
        key_valid: torch.Tensor | None,
    ) -> tuple[torch.Tensor, KVCache]:
        """Run the prefix (user + history) and keep every layer's K/V for ``forward_cached``.

        ``key_valid [B, P]`` says which prefix tokens candidates may attend to (padding excluded).
        ``mask`` None (no padding anywhere) takes attention's unmasked kernel.
        """
        rope = self._rope(positions, x.dtype)
        keys, values = [], []
        for block in self.blocks:
            x, k, v = block(x, rope, mask)
            keys.append(k)
            values.append(v)
        if key_valid is None:
            key_valid = torch.ones(x.shape[0], x.shape[1], dtype=torch.bool, device=x.device)
        return self.final_norm(x), KVCache(keys, values, key_valid.bool())

    def prefix_cache(
        self, x: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor | None, key_valid: torch.Tensor
    ) -> KVCache:
        """``forward_prefix``'s cache without its hidden states: candidates read only the prefix's
        keys and values, so the last block needs its K/V projection but neither attention nor MLP
        (about a fifth of the prefix's work, exactly the same cache)."""
        rope = self._rope(positions, x.dtype)
        keys, values = [], []
        for block in self.blocks[:-1]:
            x, k, v = block(x, rope, mask)
            keys.append(k)
            values.append(v)
        last = self.blocks[-1]
        k, v = last.attn.keys_values(last.attn_norm(x), rope)
        return KVCache([*keys, k], [*values, v], key_valid.bool())

    def forward_cached(self, x: torch.Tensor, positions: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Hidden states of candidate tokens ``[B, C, D]`` scored against a cached prefix.

        ``positions`` is ``[B, 1]`` or ``[B, C]``; either way every candidate of a row must share
        one position (the right-anchored scheme puts them all at H), which is what lets the
        rotation be one matrix per row.
        """
        if x.shape[0] != cache.batch_size:
            raise ValueError(f"candidate batch {x.shape[0]} != cached prefix batch {cache.batch_size}")
        if (
            positions.dim() != 2
            or positions.shape[0] != x.shape[0]
            or positions.shape[1] not in (1, x.shape[1])
        ):
            raise ValueError(
                f"positions must be [B, 1] or [B, C], got {tuple(positions.shape)} for {tuple(x.shape)}"
            )
        if bool((positions != positions[:, :1]).any()):
            raise ValueError("the cached path needs every candidate of a row at one position")
        views, bias = self.candidate_views(cache, positions[:, 0], x.dtype)
        for block, view in zip(self.blocks, views, strict=True):
            x = block.forward_cached(x, view, bias)
        return self.final_norm(x)

    def candidate_views(
        self, cache: KVCache, positions: torch.Tensor, dtype: torch.dtype = torch.float32
    ) -> tuple[list[CandidateView], torch.Tensor | None]:
        """Every layer's ``Attention.candidate_view`` of ``cache`` for candidates at ``positions
        [B]``, plus the additive key bias of the padded prefix slots (None: none padded). Kept on
        the cache at inference, so the chunks of one request prepare the prefix once."""
        if cache.views is not None and torch.equal(cache.views[0], positions):
            return cache.views[1], cache.views[2]
        rotation = rotation_matrices(positions, self.cfg.head_dim, self.cfg.rope_base, dtype)
        views = [
            block.attn.candidate_view(rotation, k, v)
            for block, k, v in zip(self.blocks, cache.keys, cache.values, strict=True)
        ]
        bias = None
        if not bool(cache.key_valid.all()):
            bias = torch.zeros(cache.key_valid.shape, dtype=dtype, device=positions.device)
            bias = bias.masked_fill(~cache.key_valid, float("-inf"))[:, None, None, :]
            if bias.is_cuda:  # aligned once here, not by every layer's attention call
                bias = _aligned_bias(bias)
        if not torch.is_grad_enabled():
            cache.views = (positions.clone(), views, bias)
        return views, bias
