"""The inference engine: prefix once per user, candidates in chunks, X's wire layout out."""

from __future__ import annotations

import numpy as np
import torch

from phoenix.actions import DISCRETE_ACTIONS
from phoenix.ranker.engine import RankerEngine, ScoreRequest
from phoenix.ranker.features import build_batch
from tests.phoenix.ranker.test_model import NOW, _cands, _model, _user


def test_chunking_users_of_uneven_sizes_changes_no_score() -> None:
    """Chunks of 4 over users with 11, 3 and 7 candidates (later chunks hold only some users, whose
    cached prefixes are selected out) score exactly like one chunk and like the full masked path."""
    model = _model()
    requests = [
        ScoreRequest(_user(1, 9), _cands(11, seed=1), NOW),
        ScoreRequest(_user(2, 0), _cands(3, seed=2), NOW),
        ScoreRequest(_user(3, 30), _cands(7, seed=3), NOW),
    ]
    chunked = RankerEngine(model, "v", chunk_size=4).score(requests)
    whole = RankerEngine(model, "v").score(requests)
    batch = build_batch([r.user for r in requests], [r.candidates for r in requests], NOW, model.cfg)
    with torch.no_grad():
        logits, dwell = model(batch)
    slots = [h.action for h in DISCRETE_ACTIONS]
    for i, (a, b) in enumerate(zip(chunked, whole, strict=True)):
        n = len(requests[i].candidates)
        assert a.log_probs.shape == (n, 64) and np.isfinite(a.log_probs).all()
        assert np.allclose(a.log_probs, b.log_probs, atol=1e-5) and np.allclose(
            a.dwell_s, b.dwell_s, atol=1e-4
        )
        full = torch.nn.functional.logsigmoid(logits[i, :n]).numpy()
        assert np.allclose(a.log_probs[:, slots], full, atol=1e-4)
        assert np.allclose(a.dwell_s, dwell[i, :n].numpy(), atol=1e-3)


def _spy_threads(model, monkeypatch) -> list[tuple[str, bool]]:
    """Record (thread name, inference mode on?) for every ``score_cached`` call."""
    import threading

    calls: list[tuple[str, bool]] = []
    original = model.score_cached

    def spy(cache, batch):
        calls.append((threading.current_thread().name, torch.is_inference_mode_enabled()))
        return original(cache, batch)

    monkeypatch.setattr(model, "score_cached", spy)
    return calls


def test_concurrent_chunks_score_like_one_thread(monkeypatch) -> None:
    """With workers, chunks run on pool threads (in inference mode: the caller's mode is per
    thread) and every user's scores, an empty request's included, equal the one-thread answer."""
    import phoenix.ranker.engine as engine_module

    model = _model()
    requests = [
        ScoreRequest(_user(1, 9), _cands(23, seed=1), NOW),
        ScoreRequest(_user(2, 0), [], NOW),
        ScoreRequest(_user(3, 30), _cands(7, seed=3), NOW),
    ]
    alone = RankerEngine(model, "v", chunk_size=8).score(requests)
    monkeypatch.setattr(engine_module, "MIN_PARALLEL_WORK", 0)  # the tiny test model: split anyway
    calls = _spy_threads(model, monkeypatch)
    together = RankerEngine(model, "v", chunk_size=8, workers=3).score(requests)
    assert any(name.startswith("ranker-chunk") for name, _ in calls)
    assert all(inference for _, inference in calls)
    for a, b in zip(alone, together, strict=True):
        assert a.log_probs.shape == b.log_probs.shape
        assert np.allclose(a.log_probs, b.log_probs, atol=1e-5)
        assert np.allclose(a.dwell_s, b.dwell_s, atol=1e-4)
    # Only empty requests: no chunk at all (found by the gRPC fuzz test).
    empty = RankerEngine(model, "v", workers=3).score([ScoreRequest(_user(1, 3), [], NOW)] * 2)
    assert [r.log_probs.shape for r in empty] == [(0, 64), (0, 64)]


def test_small_work_stays_on_the_calling_thread(monkeypatch) -> None:
    """Below ``MIN_PARALLEL_WORK`` (the test-size model at 200 candidates) the hand-off would cost
    more than it saves: one chunk, scored by the caller."""
    model = _model()
    calls = _spy_threads(model, monkeypatch)
    RankerEngine(model, "v", workers=2).score([ScoreRequest(_user(1, 5), _cands(200), NOW)])
    assert len(calls) == 1 and not calls[0][0].startswith("ranker-chunk")


def test_workers_must_be_positive() -> None:
    import pytest

    with pytest.raises(ValueError, match="workers must be >= 1"):
        RankerEngine(_model(), "v", workers=0)
