"""Per-author segment lists must keep every author's entries in order through relocations."""

from __future__ import annotations

import numpy as np

from thunder.posting_lists import PostingLists


def test_append_pop_and_newest_match_python_lists() -> None:
    rng = np.random.default_rng(3)
    lists = PostingLists(arena_capacity=8)
    lists.ensure_authors(50)
    model: dict[int, list[int]] = {a: [] for a in range(50)}
    row = 0
    for _ in range(60):
        authors = rng.integers(0, 50, rng.integers(1, 80))
        rows = np.arange(row, row + len(authors))
        row += len(authors)
        lists.append(authors, rows)
        for a, r in zip(authors.tolist(), rows.tolist(), strict=True):
            model[a].append(r)
        victims = rng.choice(50, 5, replace=False)
        counts = rng.integers(0, 4, 5)
        popped = lists.pop_oldest(victims, counts)
        expected_popped = []
        for a, n in zip(victims.tolist(), counts.tolist(), strict=True):
            expected_popped += model[a][:n]
            model[a] = model[a][n:]
        assert sorted(popped.tolist()) == sorted(expected_popped)
    everyone = np.arange(50)
    rows, group = lists.newest(everyone, 7)
    for a in range(50):
        assert rows[group == a].tolist() == model[a][::-1][:7]
    rows, group = lists.all_entries(everyone)
    for a in range(50):
        assert rows[group == a].tolist() == model[a]
    assert lists.live == sum(len(v) for v in model.values())
