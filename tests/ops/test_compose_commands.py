"""Every ``foryou`` command line in docker-compose.yml must parse with the real CLI (the engine
does not run here, so this is how a renamed flag is caught before a deployment breaks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _compose_commands() -> list[tuple[str, list[str]]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    out = []
    for name, service in compose["services"].items():
        command = service.get("command")
        if service.get("image", "").startswith("foryou") and isinstance(command, list) and "entrypoint" not in service:
            out.append((name, [str(c) for c in command]))
    return out


def _parse(argv: list[str]):  # noqa: ANN202 - typer's Result
    """Parse the command line as the CLI would; the trailing --help (eager) stops it before running,
    but only after every option was recognised (an unknown one exits 2 with "No such option")."""
    return CliRunner().invoke(app, [*argv, "--help"])


@pytest.mark.parametrize(("service", "argv"), _compose_commands(), ids=[n for n, _ in _compose_commands()])
def test_compose_command_parses(service: str, argv: list[str]) -> None:
    result = _parse(argv)
    assert result.exit_code == 0, f"{service}: {argv}\n{result.output}"


def test_every_service_is_covered() -> None:
    names = {n for n, _ in _compose_commands()}
    assert {"thunder", "ranker", "retrieval", "user-state", "home-mixer", "producer"} <= names


def test_a_wrong_flag_is_caught() -> None:
    result = _parse(["serve", "thunder", "--adress", "x"])
    assert result.exit_code == 2 and "No such option" in result.output
