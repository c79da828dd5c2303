import numpy as np
import pytest

from phoenix.retrieval.index import IndexConfig, PostIndex

KINDS = ["flat", "hnsw", "ivf", "torch"]


def unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def build(kind, n=3000, d=16, seed=0):
    rng = np.random.default_rng(seed)
    vecs = unit(rng, n, d)
    ids = np.arange(1, n + 1, dtype=np.int64) * 1000
    index = PostIndex(IndexConfig(dim=d, kind=kind, ivf_nlist=16, ivf_nprobe=16, hnsw_ef_search=256))
    index.add(ids, ids + 1, vecs)
    return index, ids, vecs, unit(rng, 4, d)


def exact_top(ids, vecs, q, k, exclude=()):
    scores = q @ vecs.T
    scores[:, np.isin(ids, list(exclude))] = -np.inf
    return ids[np.argsort(-scores, axis=1)[:, :k]]


@pytest.mark.parametrize("kind", KINDS)
def test_search_matches_brute_force(kind):
    index, ids, vecs, q = build(kind)
    res = index.search(q, 10)
    expect = exact_top(ids, vecs, q, 10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(res.post_ids, expect, strict=True)])
    assert overlap >= (1.0 if kind in ("flat", "torch", "ivf") else 0.9)
    assert (res.author_ids == np.where(res.post_ids > 0, res.post_ids + 1, 0)).all()
    assert (np.diff(res.scores, axis=1) <= 1e-6).all()  # best first


@pytest.mark.parametrize("kind", KINDS)
def test_exclusions_and_removal_never_returned(kind):
    index, ids, vecs, q = build(kind)
    best = index.search(q[:1], 20).post_ids[0]
    excluded = set(best[:10].tolist())
    res = index.search(q[:1], 20, exclude=excluded)
    assert not excluded & set(res.post_ids[0].tolist())
    assert (res.post_ids[0] > 0).all()  # still a full page
    assert index.remove(best[10:15]) == 5
    assert index.remove([123456789]) == 0
    res = index.search(q[:1], 20)
    assert not set(best[10:15].tolist()) & set(res.post_ids[0].tolist())
    assert len(index) == len(ids) - 5


@pytest.mark.parametrize("kind", KINDS)
def test_re_adding_a_post_replaces_its_vector(kind):
    index, ids, vecs, q = build(kind, n=500)
    target = int(ids[42])
    index.add([target], [7], q[:1])  # now it is the perfect match for q[0]
    res = index.search(q[:1], 1)
    assert res.hits(0)[0][:2] == (target, 7)
    assert len(index) == 500


def test_hnsw_compacts_tombstones():
    index, ids, vecs, q = build("hnsw", n=400)
    index.remove(ids[:200])  # > 20% tombstones -> graph rebuilt without them
    assert len(index) == 200
    assert index._tombstones == set()
    assert index._faiss.ntotal == 200
    assert set(index.search(q, 50).post_ids.ravel().tolist()) <= set(ids[200:].tolist())


def test_short_results_are_padded():
    index, ids, vecs, q = build("flat", n=5)
    res = index.search(q[:1], 8)
    assert (res.post_ids[0][:5] > 0).all() and (res.post_ids[0][5:] == -1).all()
    assert len(res.hits(0)) == 5
    empty = PostIndex(IndexConfig(dim=4))
    assert empty.search(np.ones((1, 4), np.float32), 3).hits(0) == []


def test_bad_input_is_a_clear_error():
    index = PostIndex(IndexConfig(dim=4))
    with pytest.raises(ValueError, match="shape"):
        index.add([1], [1], np.ones((1, 5), np.float32))
    with pytest.raises(ValueError, match="positive"):
        index.add([0], [1], np.ones((1, 4), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        index.add([1], [1], np.full((1, 4), np.nan, np.float32))
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.ones(4, np.float32), 0)
    with pytest.raises(ValueError, match="unknown index kind"):
        IndexConfig(dim=4, kind="lsh")
