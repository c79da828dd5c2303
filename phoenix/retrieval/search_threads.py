"""The worker threads retrieval searches run on, with the process's intra-op thread count.

The service runs the user tower and the FAISS search off the event loop. OpenMP's thread
count is a per-thread setting: ``torch.set_num_threads`` / ``faiss.omp_set_num_threads`` in
the main thread leave a worker thread at the OpenMP default (every core). The faiss wheel
bundles its own libgomp; when faiss is imported before torch (as ``phoenix.retrieval.index``
does in the retrieval child) torch's setting never reaches it, and each search opened 2-thread
parallel regions (``IndexIDMap`` translates its 1,000 result ids in one) whose idle worker then
spin-waits: measured in ``python -m bench feed``, ~57% of the retrieval process's CPU was
libgomp spinning, ~16 ms of CPU per request against ~6 ms with one thread. So every worker of
this pool sets both libraries' counts itself when it starts.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import faiss
import torch


def set_thread_counts(threads: int) -> None:
    """Set torch's and faiss's intra-op (OpenMP) thread counts for the calling thread."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


def search_pool(threads: int | None = None, workers: int = 2) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads that each run torch and FAISS with ``threads`` intra-op
    threads (default: the calling thread's torch setting, which the serving process configured)."""
    count = threads if threads is not None else torch.get_num_threads()
    if count < 1:
        raise ValueError(f"threads must be >= 1, got {count}")
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retrieval-search",
                              initializer=set_thread_counts, initargs=(count,))
