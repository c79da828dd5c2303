"""The retrieval search pool sets OpenMP thread counts in each of its own worker threads."""

from __future__ import annotations

import faiss
import pytest
import torch

from phoenix.retrieval.search_threads import search_pool, set_thread_counts


def _counts() -> tuple[int, int]:
    return torch.get_num_threads(), faiss.omp_get_max_threads()


@pytest.mark.parametrize("threads", [1, 2])
def test_each_worker_runs_torch_and_faiss_with_the_given_count(threads: int) -> None:
    pool = search_pool(threads=threads, workers=2)
    try:
        seen = {pool.submit(_counts).result() for _ in range(8)}
    finally:
        pool.shutdown()
    assert seen == {(threads, threads)}


def test_default_is_the_callers_torch_count() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pool = search_pool()
        try:
            assert pool.submit(faiss.omp_get_max_threads).result() == 1
        finally:
            pool.shutdown()
    finally:
        torch.set_num_threads(before)


def test_a_thread_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="threads must be >= 1"):
        search_pool(threads=0)
    with pytest.raises(ValueError, match="threads must be >= 1"):
        set_thread_counts(0)
