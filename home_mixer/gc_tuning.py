"""Garbage-collector settings for a serving process.

A feed request allocates a few hundred thousand container objects (candidates, their score
dicts and explanation terms) that mostly survive until the response, so CPython's default
thresholds (700, 10, 10) run hundreds of young collections per request and promote the
survivors into full collections that walk the whole heap: measured in the feed bench, 24 full
collections of ~230 ms each in 14 requests, ~470 ms of GC per request. Freezing what exists
at start-up (modules, models, clients, loaded stores: never garbage) takes it out of every
later collection, and a larger young-generation threshold makes collections rarer without
letting garbage cycles grow unboundedly. Process-wide, so only the serve path calls it.
"""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (50_000, 20, 100)
"""(gen0 allocations, gen0 runs per gen1, gen1 runs per gen2); CPython's defaults: (700, 10, 10)."""


def tune_for_serving(thresholds: tuple[int, int, int] = SERVING_THRESHOLDS) -> None:
    """Collect once, freeze the survivors into the permanent generation, set ``thresholds``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
