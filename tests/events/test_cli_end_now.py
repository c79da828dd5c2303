"""`foryou produce --world` shifts the world to end now so serving (48 h retention) keeps it."""

import time

from events.cli import _ending_now
from events.world import WorldConfig


def test_world_shifted_to_end_now_keeps_everything_else() -> None:
    base = WorldConfig.preset("tiny", seed=3)
    shifted = _ending_now(base)
    now_ms = time.time() * 1000
    assert abs(shifted.end_ms - now_ms) < 60_000
    assert shifted.days == base.days and shifted.n_users == base.n_users and shifted.seed == base.seed
    assert base.end_ms < now_ms - 86_400_000  # the preset's own dates are in the past
