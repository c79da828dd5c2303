"""Side effects start after the result is built, never delay it, and are drained on demand."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from candidate_pipeline import CandidatePipeline, TopKScoreSelector

from .fakes import FakeScorer, FakeSideEffect, FakeSource, Query, by_candidate, ids


def test_slow_side_effect_does_not_delay_the_result_and_drain_completes_it() -> None:
    async def scenario() -> None:
        slow = FakeSideEffect("slow_write", delay=1.0, timeout_s=10)
        pipe = CandidatePipeline(
            name="t_side_slow",
            sources=[FakeSource("s", [1, 2, 3])],
            scorers=[FakeScorer("sc", by_candidate(lambda c: {"score": float(c.id)}))],
            selector=TopKScoreSelector(k=2),
            side_effects=[slow],
        )
        result = await pipe.execute(Query())
        # execute() returned while the side effect had not even started its work.
        assert not slow.done.is_set()
        assert slow.calls == 0
        assert pipe.pending_side_effects == 1
        assert result.stats.side_effects_started == ["slow_write"]
        assert result.stats.total_latency_ms < 1000
        await pipe.drain_side_effects()
        assert slow.done.is_set()
        assert pipe.pending_side_effects == 0
        (inp,) = slow.inputs
        assert inp.query is result.query
        assert (ids(inp.selected), ids(inp.non_selected)) == ([3, 2], [1])

    asyncio.run(scenario())


def test_failing_and_timed_out_side_effects_are_counted_not_raised() -> None:
    async def scenario() -> None:
        boom = FakeSideEffect("se_boom", error=RuntimeError("kafka down"))
        slow = FakeSideEffect("se_slow", delay=30, timeout_s=0.05)
        pipe = CandidatePipeline(
            name="t_side_fail", sources=[FakeSource("s", [1])], side_effects=[boom, slow]
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1]
        await pipe.drain_side_effects()

        def value(metric: str, stage: str, status: str) -> float | None:
            labels = {
                "pipeline": "t_side_fail",
                "stage_kind": "side_effect",
                "stage": stage,
                "status": status,
            }
            return REGISTRY.get_sample_value(metric, labels)

        assert value("candidate_pipeline_stage_errors_total", "se_boom", "error") == 1
        assert value("candidate_pipeline_stage_timeouts_total", "se_slow", "timeout") == 1
        assert not slow.done.is_set()

    asyncio.run(scenario())


def test_disabled_side_effect_is_recorded_and_not_started() -> None:
    async def scenario() -> None:
        off = FakeSideEffect("se_off", enabled=False)
        on = FakeSideEffect("se_on")
        pipe = CandidatePipeline(
            name="t_side_disabled", sources=[FakeSource("s", [1])], side_effects=[off, on]
        )
        result = await pipe.execute(Query())
        await pipe.drain_side_effects()
        assert result.stats.get("side_effect", "se_off").status == "disabled"
        assert result.stats.side_effects_started == ["se_on"]
        assert (off.calls, on.calls) == (0, 1)

    asyncio.run(scenario())


def test_deferred_side_effects_wait_for_start_and_drain_waits_for_them() -> None:
    """``defer_side_effects``: nothing runs until ``start_side_effects()`` (given several yields to
    the loop in between), a second start is a no-op, and ``drain()`` waits for side effects that
    were not started yet: they start by themselves at the latest."""
    async def scenario() -> None:
        effect = FakeSideEffect("se_later")
        pipe = CandidatePipeline(name="t_side_deferred", sources=[FakeSource("s", [1, 2])], side_effects=[effect])
        result = await pipe.execute(Query(), defer_side_effects=True)
        for _ in range(5):
            await asyncio.sleep(0)
        assert effect.calls == 0 and pipe.pending_side_effects == 1
        assert result.stats.side_effects_started == ["se_later"]
        result.start_side_effects()
        result.start_side_effects()
        await pipe.drain_side_effects()
        assert effect.calls == 1 and ids(effect.inputs[0].selected) == [1, 2]

        never_started = await pipe.execute(Query(), defer_side_effects=True)
        assert never_started.deferred_side_effects is not None
        await asyncio.wait_for(pipe.drain_side_effects(), timeout=5)  # started by the fallback timer
        assert effect.calls == 2 and never_started.deferred_side_effects.started

        plain = CandidatePipeline(name="t_side_deferred_none", sources=[FakeSource("s", [1])])
        assert (await plain.execute(Query(), defer_side_effects=True)).deferred_side_effects is None

    asyncio.run(scenario())
