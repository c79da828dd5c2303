"""Admission control refuses at once beyond the concurrency cap or the token-bucket rate."""

from __future__ import annotations

from thunder.admission import Admission, TokenBucket


def test_concurrency_cap_refuses_then_admits_after_leave() -> None:
    adm = Admission(max_concurrent=2, qps_limit=1000)
    assert adm.enter() is None and adm.enter() is None
    assert "capacity" in (adm.enter() or "")
    adm.leave()
    assert adm.enter() is None


def test_token_bucket_limits_rate_and_refills_with_time() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=5, clock=lambda: now[0])
    assert [bucket.try_take() for _ in range(6)] == [True] * 5 + [False]
    now[0] += 0.2  # one token's worth
    assert bucket.try_take() is True
    assert bucket.try_take() is False


def test_qps_refusal_message() -> None:
    now = [0.0]
    adm = Admission(max_concurrent=10, qps_limit=1, clock=lambda: now[0])
    assert adm.enter() is None
    adm.leave()
    assert adm.enter() == "QPS rate limit exceeded"
