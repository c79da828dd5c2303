import pytest

from infra.snowflake import TWITTER_EPOCH_MS, make_snowflake, snowflake_age_ms, snowflake_timestamp_ms


def test_round_trip_timestamp() -> None:
    ts = 1_700_000_000_123
    assert snowflake_timestamp_ms(make_snowflake(ts, 7)) == ts


def test_ids_sort_by_time() -> None:
    assert make_snowflake(TWITTER_EPOCH_MS + 10) > make_snowflake(TWITTER_EPOCH_MS + 9, (1 << 22) - 1)


def test_age_and_invalid() -> None:
    pid = make_snowflake(1_700_000_000_000)
    assert snowflake_age_ms(pid, 1_700_000_060_000) == 60_000
    assert snowflake_age_ms(0, 1) is None
    with pytest.raises(ValueError):
        make_snowflake(5)
