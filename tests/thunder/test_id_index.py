"""The numpy hash map must behave exactly like a dict under inserts, removals and growth."""

from __future__ import annotations

import numpy as np
import pytest

from thunder.id_index import WINDOW, IdIndex


def test_matches_a_dict_through_growth_and_removals() -> None:
    rng = np.random.default_rng(7)
    index = IdIndex(16)
    model: dict[int, int] = {}
    for step in range(30):
        keys = np.unique(rng.integers(1, 2**62, 500))
        keys = keys[index.get(keys) < 0]
        index.insert(keys, np.arange(len(keys)) + step * 1000)
        model.update(zip(keys.tolist(), (np.arange(len(keys)) + step * 1000).tolist(), strict=True))
        gone = rng.choice(np.array(list(model)), size=100, replace=False)
        assert index.remove(gone) == 100
        for k in gone.tolist():
            del model[k]
    probe = np.concatenate([np.array(list(model)), rng.integers(1, 2**62, 1000)])
    expected = [model.get(k, -1) for k in probe.tolist()]
    assert index.get(probe).tolist() == expected
    assert len(index) == len(model)


def test_colliding_keys_in_one_batch_all_land() -> None:
    index = IdIndex(16)
    keys = np.arange(1, 5000)  # forces several rebuilds and many shared home slots
    index.insert(keys, keys * 2)
    assert index.get(keys).tolist() == (keys * 2).tolist()
    assert index.get(np.array([0, -5, 999_999])).tolist() == [-1, -1, -1]


def test_rejects_non_positive_keys() -> None:
    with pytest.raises(ValueError, match="positive"):
        IdIndex().insert(np.array([0]), np.array([1]))


def _keys_with_home(index: IdIndex, home: int, count: int, rng: np.random.Generator) -> np.ndarray:
    out: list[int] = []
    while len(out) < count:
        candidates = rng.integers(1, 2**62, 200_000)
        out += candidates[index._home(candidates) == home].tolist()
    return np.array(out[:count])


def test_long_chains_run_past_the_window_and_wrap_around() -> None:
    rng = np.random.default_rng(11)
    index = IdIndex(1024)
    last = index._homes - WINDOW
    # 40 keys share the last bucket: their chain fills the extra slots and wraps to slot 0, where
    # keys of the first buckets then find their own chains already occupied
    crowd = _keys_with_home(index, last, 40, rng)
    early = np.concatenate([_keys_with_home(index, h, 6, rng) for h in (0, WINDOW)])
    index.insert(crowd, np.arange(40))
    index.insert(early, np.arange(100, 100 + len(early)))
    absent = _keys_with_home(index, last, 60, rng)[40:]
    assert index.get(crowd).tolist() == list(range(40))
    assert index.get(early).tolist() == list(range(100, 100 + len(early)))
    assert (index.get(absent) == -1).all()
    assert index.remove(crowd[::2]) == 20
    assert index.get(crowd).tolist() == [-1 if i % 2 == 0 else i for i in range(40)]
    assert index.get(early).tolist() == list(range(100, 100 + len(early)))
    one_by_one = [int(index.get(np.array([k]))[0]) for k in np.concatenate([crowd, early, absent]).tolist()]
    assert one_by_one == index.get(np.concatenate([crowd, early, absent])).tolist(), "the scalar path agrees"
