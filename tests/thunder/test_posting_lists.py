"""Per-author segment lists must keep every author's entries in order through relocations, and
their time bounds must bound every entry's created_at and only grow towards the newest."""

from __future__ import annotations

import numpy as np

from thunder.posting_lists import NO_TIME, PROBE_DEPTHS, PostingLists


def test_append_pop_and_newest_match_python_lists() -> None:
    rng = np.random.default_rng(3)
    lists = PostingLists(arena_capacity=8)
    lists.ensure_lists(50)
    model: dict[int, list[int]] = {a: [] for a in range(50)}
    created: dict[int, int] = {}
    row = 0
    for step in range(60):
        authors = rng.integers(0, 50, rng.integers(1, 80))
        rows = np.arange(row, row + len(authors))
        row += len(authors)
        # mostly increasing times with late (out-of-order) arrivals mixed in
        when = 1_000 + step * 10 + rng.integers(-40, 10, len(rows))
        lists.append(authors, rows, when)
        for a, r, t in zip(authors.tolist(), rows.tolist(), when.tolist(), strict=True):
            model[a].append(r)
            created[r] = t
        victims = rng.choice(50, 5, replace=False)
        counts = rng.integers(0, 4, 5)
        if step % 7 == 6:
            counts[0] = len(model[int(victims[0])])  # empty a list now and then (segment reuse)
        popped = lists.pop_oldest(victims, counts)
        expected_popped = []
        for a, n in zip(victims.tolist(), counts.tolist(), strict=True):
            expected_popped += model[a][:n]
            model[a] = model[a][n:]
        assert sorted(popped.tolist()) == sorted(expected_popped)
        everyone_now = np.arange(50)
        bounds = lists.all_bounds(everyone_now)
        _, group = lists.all_entries(everyone_now)
        assert all(np.all(np.diff(bounds[group == a]) >= 0) for a in range(50)), "bounds only grow towards the newest"
    everyone = np.arange(50)
    rows, group = lists.newest(everyone, 7)
    for a in range(50):
        assert rows[group == a].tolist() == model[a][::-1][:7]
    rows, group = lists.all_entries(everyone)
    for a in range(50):
        assert rows[group == a].tolist() == model[a]
    assert lists.live == sum(len(v) for v in model.values())
    for since in (0, 1_200, 1_400, 1_590, 10_000):
        seg = lists.segments(everyone)
        counts = lists.count_since_in(seg, since)
        beyond = lists.bound_beyond(seg, counts)
        for a in range(50):
            newest_first = model[a][::-1]
            n = int(counts[a])
            assert all(created[r] < since for r in newest_first[n:]), "an entry that new lies beyond the window"
            if n < len(newest_first):
                assert beyond[a] >= max(created[r] for r in newest_first[n:]) and beyond[a] < since
            else:
                assert beyond[a] == NO_TIME
        for most in (9, 200):
            windows, proven = lists.window_since(seg, since, most)
            for a in range(50):
                newest_first = model[a][::-1]
                w = int(windows[a])
                assert w <= min(most, len(newest_first))
                if w < min(most, len(newest_first)):
                    assert all(created[r] < since for r in newest_first[w:]), "window_since missed a newer entry"
                if proven[a]:
                    assert all(created[r] < since for r in newest_first[w:]), "proven, yet a newer entry is older"
                if counts[a] < PROBE_DEPTHS[-1]:
                    assert w <= max(2 * int(counts[a]) - 1, 0), "at most twice the exact count"
