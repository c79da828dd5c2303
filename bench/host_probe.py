"""A fixed reference workload timed next to a benchmark, so runs on the shared host compare.

The 2-core dev box is a VM whose speed moves by tens of percent from hour to hour (the same code
measured p50 68-123 ms in the feed bench within one session), with the load average near zero
either way. ``host_probe_ms`` times the same single-threaded work every time: a pure-Python loop
(what home-mixer's event loop spends its time on) and float32 array arithmetic (numpy's
element-wise kernels run on one thread, unlike its matrix products). A run whose probe is 20 %
slower than another's ran on a 20 % slower host. The converse does not hold: the model benches
have also run 20-30 % slow at a fast probe (contention the probe's small working set does not
feel), so the probe explains some of the spread, not all of it.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

_A = np.random.default_rng(0).standard_normal(1 << 20, dtype=np.float32)


def _work() -> None:
    total = 0
    for i in range(200_000):
        total += i & 7
    b = np.empty_like(_A)
    for _ in range(10):
        np.multiply(_A, _A, out=b)
        np.exp(b, out=b)
        np.sqrt(b, out=b)


def host_probe_ms(reps: int = 9) -> float:
    """Median milliseconds of the reference work (about 20 ms on the dev box)."""
    _work()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        _work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)
