"""Named ranker sizes: one definition shared by the CLI, the local stack and the benches."""

from __future__ import annotations

import asyncio

import pytest

from home_mixer.local_stack import fresh_ranker_engine, local_stack
from phoenix.ranker.cli import _model_config
from phoenix.ranker.config import RANKER_SIZES, RankerConfig, sized_config, small_config


def test_sizes_are_the_documented_shapes() -> None:
    shapes = {
        name: (cfg.dim, cfg.transformer.num_layers, cfg.history_len, cfg.max_candidates)
        for name in RANKER_SIZES
        for cfg in [sized_config(name)]
    }
    assert shapes == {"test": (32, 2, 16, 2800), "small": (64, 2, 128, 2800), "serving": (128, 4, 320, 2800)}
    assert sized_config("serving") == RankerConfig()
    assert sized_config("test") == small_config(max_candidates=2800)


def test_cli_sizes_are_the_named_sizes() -> None:
    assert _model_config("small") == sized_config("small")
    assert _model_config("serving") == sized_config("serving")


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ranker size 'huge'"):
        sized_config("huge")


def test_fresh_engine_has_the_size_and_says_so_in_its_version() -> None:
    engine = fresh_ranker_engine(3, "small")
    assert engine.cfg == sized_config("small")
    assert engine.version == "fresh-ranker-3-small"
    assert fresh_ranker_engine(3).version == "fresh-ranker-3"  # the default (test) size


def test_local_stack_refuses_an_unknown_ranker_size_before_starting_anything() -> None:
    async def enter() -> None:
        # Unreachable addresses: the size is checked before a single event is produced.
        async with local_stack([], bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1", ranker_size="huge"):
            pass

    with pytest.raises(ValueError, match="ranker_size: unknown size 'huge'"):
        asyncio.run(enter())
