"""The host probe times real work: more repetitions of it never make the median vanish."""

from __future__ import annotations

from bench.host_probe import host_probe_ms


def test_probe_measures_the_reference_work() -> None:
    first, second = host_probe_ms(reps=3), host_probe_ms(reps=3)
    assert 1.0 < first < 10_000 and 1.0 < second < 10_000  # ~20 ms on the dev box
