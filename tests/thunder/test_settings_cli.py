"""Settings come from THUNDER_* variables; the CLI registers ``serve thunder`` and checks its input."""

from __future__ import annotations

import pytest
import typer

from thunder.cli import _parse_partitions, register
from thunder.settings import ThunderSettings


def test_env_prefix_overrides_x_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ThunderSettings().retention_s == 172_800 and ThunderSettings().port == 9090
    monkeypatch.setenv("THUNDER_RETENTION_S", "3600")
    monkeypatch.setenv("THUNDER_PARTITIONS", "[0, 2]")
    settings = ThunderSettings()
    assert settings.retention_s == 3600 and settings.partitions == [0, 2]


def test_partitions_option_parsing() -> None:
    assert _parse_partitions("3,1, 1") == [1, 3]
    assert _parse_partitions(None) is None
    with pytest.raises(typer.BadParameter, match="comma-separated"):
        _parse_partitions("a,b")
    with pytest.raises(typer.BadParameter, match=">= 0"):
        _parse_partitions("-1")


def test_register_adds_serve_thunder() -> None:
    serve = typer.Typer()

    class Groups:
        pass

    groups = Groups()
    groups.serve = serve  # type: ignore[attr-defined]
    register(groups)
    assert [c.name for c in serve.registered_commands] == ["thunder"]
