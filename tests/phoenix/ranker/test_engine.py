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
