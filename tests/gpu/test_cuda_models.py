"""The models on a CUDA device: the same properties as on CPU, and the same answers as CPU.

CI has no GPU, so every test here is skipped there; they run on the project's lent GPU machine
(``pytest tests/gpu``). The CPU suite proves the maths; these prove the device paths (masks,
index scatter, KV cache, the torch retrieval index, training steps) don't silently differ on CUDA,
where kernels, reduction orders and TF32 defaults are different.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from phoenix.ranker.config import small_config
from phoenix.ranker.engine import RankerEngine, ScoreRequest
from phoenix.ranker.evaluate import evaluate
from phoenix.ranker.examples import build_examples
from phoenix.ranker.features import UserContext, build_batch
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import TrainConfig, train
from phoenix.retrieval.index import IndexConfig, PostIndex
from phoenix.retrieval.training import TrainConfig as RetrievalTrainConfig
from phoenix.retrieval.training import train as train_retrieval
from tests.phoenix.ranker.synthetic import T0_MS, TinyWorld
from tests.phoenix.ranker.test_model import NOW, _cands, _user
from tests.phoenix.retrieval.helpers import tiny_model
from tests.phoenix.retrieval.test_training import _ring_rank, sequential_world

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CUDA = "cuda"


def _model(device: str) -> PhoenixRanker:
    torch.manual_seed(0)
    return PhoenixRanker(small_config()).to(device).eval()


def _score(model: PhoenixRanker, users, cands) -> tuple[torch.Tensor, torch.Tensor]:
    batch = build_batch(users, cands, NOW, model.cfg).to(next(model.parameters()).device)
    with torch.inference_mode():
        return model(batch)


def test_cuda_scores_equal_cpu_scores() -> None:
    users = [_user(1, 16), _user(2, 3), UserContext(3, []), _user(4, 40)]
    cands = [_cands(9, s) for s in range(4)]
    cpu_l, cpu_d = _score(_model("cpu"), users, cands)
    gpu_l, gpu_d = _score(_model(CUDA), users, cands)
    assert torch.allclose(cpu_l, gpu_l.cpu(), atol=1e-4)
    assert torch.allclose(cpu_d, gpu_d.cpu(), atol=1e-4)


def test_cuda_candidate_isolation_and_kv_cache() -> None:
    model = _model(CUDA)
    user, cands = _user(1, 10), _cands(12)
    logits, dwell = _score(model, [user], [cands])
    alone, _ = _score(model, [user], [[cands[4]]])
    assert torch.allclose(alone[0, 0], logits[0, 4], atol=1e-5)
    mixed, _ = _score(model, [user], [[*_cands(5, seed=9), cands[4]]])
    assert torch.allclose(mixed[0, 5], logits[0, 4], atol=1e-5)
    batch = build_batch([user], [cands], NOW, model.cfg).to(CUDA)
    with torch.inference_mode():
        cache = model.encode_prefix(batch)
        chunks = [model.score_cached(cache, batch.candidates(s, s + 5)) for s in range(0, 12, 5)]
    assert torch.allclose(torch.cat([c[0] for c in chunks], 1), logits, atol=1e-4)
    assert torch.allclose(torch.cat([c[1] for c in chunks], 1), dwell, atol=1e-4)


def test_cuda_kv_cached_path_under_bf16_autocast() -> None:
    model = _model(CUDA)
    users = [_user(1, 16), _user(2, 3), UserContext(3, [])]
    batch = build_batch(users, [_cands(9, s) for s in range(3)], NOW, model.cfg).to(CUDA)
    with torch.inference_mode():
        ref, _ = model.score_cached(model.encode_prefix(batch), batch)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            bf, _ = model.score_cached(model.encode_prefix(batch), batch)
    assert bf.dtype == torch.bfloat16
    assert torch.allclose(bf.float(), ref, atol=0.05)


def test_cuda_prefix_attention_kernel_equals_written_out_sums() -> None:
    """The fused CUDA kernel (output and log-sum-exp) against the same sums written out, with and
    without padded prefix keys, at a key count that is not a multiple of 16."""
    from phoenix.transformer import _prefix_attention

    gen = torch.Generator(device=CUDA).manual_seed(0)
    q = torch.randn(2, 4, 37, 32, device=CUDA, generator=gen) / 32**0.5
    k, v = (torch.randn(2, 4, 257, 32, device=CUDA, generator=gen) for _ in range(2))
    valid = torch.ones(2, 257, dtype=torch.bool, device=CUDA)
    valid[1, :100] = False
    bias = torch.zeros(2, 257, device=CUDA).masked_fill(~valid, float("-inf"))[:, None, None, :]
    for key_bias in (None, bias):
        with torch.inference_mode():
            out, lse = _prefix_attention(q, k, v, key_bias)
        scores = q @ k.transpose(-1, -2) + (0 if key_bias is None else key_bias)
        ref_lse = torch.logsumexp(scores, -1)
        assert torch.allclose(lse, ref_lse, atol=1e-4)
        assert torch.allclose(out, torch.softmax(scores, -1) @ v, atol=1e-4)


def test_cuda_engine_matches_cpu_engine_across_chunking() -> None:
    requests = [ScoreRequest(_user(u, 20), _cands(37 + u, u), NOW) for u in range(1, 5)]
    cpu = RankerEngine(_model("cpu"), "v", "cpu", chunk_size=512).score(requests)
    gpu = RankerEngine(_model(CUDA), "v", CUDA, chunk_size=16).score(requests)
    for a, b in zip(cpu, gpu, strict=True):
        assert a.log_probs.shape == b.log_probs.shape
        np.testing.assert_allclose(a.log_probs, b.log_probs, atol=1e-4)
        np.testing.assert_allclose(a.dwell_s, b.dwell_s, atol=1e-4)


def test_cuda_training_learns_the_tiny_world() -> None:
    world = TinyWorld(users=48, posts=160, topics=2, seed=1)
    train_ex, valid_ex = build_examples(
        world.posts(), world.engagements(60), history_len=16, max_candidates=8, split_time_ms=T0_MS + 30 * 60_000
    )
    torch.manual_seed(0)
    model = PhoenixRanker(small_config())
    stats = train(model, train_ex, TrainConfig(epochs=24, batch_size=16, lr=3e-3, device=CUDA, progress=False))
    assert stats.steps > 0 and np.isfinite(stats.final_loss)
    assert next(model.parameters()).device.type == "cuda"
    metrics = evaluate(model.cpu(), valid_ex, oracle=world.oracle, actions=("favorite",))
    assert metrics["favorite"].auc > 0.65, metrics


def test_torch_index_on_cuda_matches_faiss_flat() -> None:
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((20_000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(1, 20_001, dtype=np.int64) * 10
    queries = vecs[rng.choice(20_000, 8, replace=False)] + 0.1 * rng.standard_normal((8, 32)).astype(np.float32)
    flat = PostIndex(IndexConfig(dim=32, kind="flat"))
    gpu = PostIndex(IndexConfig(dim=32, kind="torch", torch_device=CUDA))
    for index in (flat, gpu):
        index.add(ids, ids + 1, vecs)
        index.remove(ids[:100])
    exclude = set(ids[100:150].tolist())
    a, b = flat.search(queries, 50, exclude=exclude), gpu.search(queries, 50, exclude=exclude)
    overlap = np.mean([len(set(x) & set(y)) / 50 for x, y in zip(a.post_ids, b.post_ids, strict=True)])
    assert overlap >= 0.98  # exact both ways; only float near-ties may swap at the cut
    assert not (set(b.post_ids.ravel().tolist()) & (exclude | set(ids[:100].tolist())))
    np.testing.assert_allclose(a.scores[:, :10], b.scores[:, :10], atol=1e-4)


def test_retrieval_training_on_cuda_learns_the_ring() -> None:
    cfg = RetrievalTrainConfig(epochs=12, batch_size=8, lr=1e-2, global_negatives=16, logq_scale=0.0,
                               progress=False, device=CUDA)
    model = tiny_model(seed=1)
    result = train_retrieval(model, sequential_world(users=24, length=10), cfg)
    assert result.steps > 0 and np.isfinite(result.final_loss)
    assert _ring_rank(model.cpu().eval()) <= 3
