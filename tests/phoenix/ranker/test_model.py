from __future__ import annotations

import random

import torch

from infra.snowflake import make_snowflake
from phoenix.ranker.config import small_config
from phoenix.ranker.features import CandidateItem, HistoryItem, UserContext, age_bucket, build_batch
from phoenix.ranker.model import PhoenixRanker

NOW = 1_700_000_000_000


def _user(uid: int, n: int) -> UserContext:
    rnd = random.Random(uid)
    return UserContext(
        uid, [HistoryItem(rnd.randint(1, 10**12), rnd.randint(1, 10**6), (1, 29), 3000, 1) for _ in range(n)]
    )


def _cands(n: int, seed: int = 0) -> list[CandidateItem]:
    rnd = random.Random(seed)
    return [
        CandidateItem(
            make_snowflake(NOW - rnd.randint(0, 10**8)), rnd.randint(1, 10**6), 0, rnd.random() < 0.5, 1
        )
        for _ in range(n)
    ]


def _model() -> PhoenixRanker:
    torch.manual_seed(0)
    return PhoenixRanker(small_config()).eval()


def _score(model, users, cands):
    with torch.no_grad():
        return model(build_batch(users, cands, NOW, model.cfg))


def test_candidate_isolation_any_set_order_and_chunking() -> None:
    model = _model()
    user, cands = _user(1, 10), _cands(12)
    logits, dwell = _score(model, [user], [cands])
    perm = list(range(12))
    random.Random(3).shuffle(perm)
    logits_p, dwell_p = _score(model, [user], [[cands[i] for i in perm]])
    assert torch.allclose(logits[0, perm], logits_p[0], atol=1e-5)
    assert torch.allclose(dwell[0, perm], dwell_p[0], atol=1e-5)
    # A candidate alone, or among different others, scores the same.
    alone, _ = _score(model, [user], [[cands[4]]])
    assert torch.allclose(alone[0, 0], logits[0, 4], atol=1e-5)
    mixed, _ = _score(model, [user], [[*_cands(5, seed=9), cands[4]]])
    assert torch.allclose(mixed[0, 5], logits[0, 4], atol=1e-5)
    # Chunked through the KV cache: any chunking gives the same scores.
    batch = build_batch([user], [cands], NOW, model.cfg)
    with torch.no_grad():
        cache = model.encode_prefix(batch)
        chunks = [model.score_cached(cache, batch.candidates(s, s + 5))[0] for s in range(0, 12, 5)]
    assert torch.allclose(torch.cat(chunks, 1), logits, atol=1e-5)


def test_kv_cached_equals_full_masked_path_for_a_batch_of_users() -> None:
    model = _model()
    users = [_user(1, 16), _user(2, 3), _user(3, 0), _user(4, 40)]  # full, short, empty, truncated
    batch = build_batch(users, [_cands(7, s) for s in range(4)], NOW, model.cfg)
    with torch.no_grad():
        full_l, full_d = model(batch)
        cached_l, cached_d = model.score_cached(model.encode_prefix(batch), batch)
    assert torch.allclose(full_l, cached_l, atol=1e-4)
    assert torch.allclose(full_d, cached_d, atol=1e-4)


def test_kv_cached_path_runs_under_bf16_autocast() -> None:
    """Autocast leaves the cached path's pieces in mixed dtypes (bf16 projections, fp32 norms and
    log-sum-exp); it must still run and agree with the fp32 answer to bf16 precision."""
    model = _model()
    users = [_user(1, 16), _user(2, 3), _user(3, 0)]  # padded prefixes take the key-bias path
    batch = build_batch(users, [_cands(7, s) for s in range(3)], NOW, model.cfg)
    with torch.inference_mode():
        ref_l, ref_d = model.score_cached(model.encode_prefix(batch), batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf_l, bf_d = model.score_cached(model.encode_prefix(batch), batch)
            full_l, _ = model(batch)
    assert bf_l.dtype == torch.bfloat16
    assert torch.allclose(bf_l.float(), ref_l, atol=0.05)
    assert torch.allclose(bf_d.float(), ref_d, atol=0.1)
    assert torch.allclose(bf_l.float(), full_l.float(), atol=0.05)


def test_new_user_and_padding_give_finite_scores() -> None:
    model = _model()
    logits, dwell = _score(model, [UserContext(99, [])], [_cands(3)])
    assert torch.isfinite(logits).all() and torch.isfinite(dwell).all()
    assert ((dwell >= 0) & (dwell <= 30)).all()
    # History padding is inert: a user's scores don't depend on how many pad slots there are.
    user = _user(5, 4)
    a, _ = _score(model, [user], [_cands(2)])
    b = build_batch([user], [_cands(2)], NOW, model.cfg)
    assert int(b.hist_len[0]) == 4 and (b.hist_post_rows[0, :-4] == 0).all()
    assert torch.isfinite(a).all()


def test_age_bucket() -> None:
    pid = make_snowflake(NOW - 90 * 60_000)
    assert age_bucket(0, pid, NOW) == 2  # 90 min -> bucket 1 + 1
    assert age_bucket(NOW - 10**10, 0, NOW) == 81  # older than 80 h -> overflow
    assert age_bucket(NOW + 1000, 0, NOW) == 0  # in the future -> unknown
    assert age_bucket(0, 0, NOW) == 0


def test_a_users_scores_do_not_depend_on_the_other_users_in_the_batch() -> None:
    # The model drops history slots that are padding for every user; a short history must score
    # the same whether it is batched alone (nearly all slots dropped) or beside a full one.
    model = _model()
    short, full = _user(6, 3), _user(7, 16)
    cands = [_cands(4, 1), _cands(4, 2)]
    alone_l, alone_d = _score(model, [short], cands[:1])
    both_l, both_d = _score(model, [short, full], cands)
    assert torch.allclose(alone_l[0], both_l[0], atol=1e-5)
    assert torch.allclose(alone_d[0], both_d[0], atol=1e-5)
    with torch.no_grad():
        batch = build_batch([short, full], cands, NOW, model.cfg)
        cached_l, _ = model.score_cached(
            model.encode_prefix(batch.select_rows(torch.tensor([0]))), batch.select_rows(torch.tensor([0]))
        )
    assert torch.allclose(cached_l[0], alone_l[0], atol=1e-5)
