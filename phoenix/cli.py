"""Phoenix commands: each model contributes its own (serve ranker|retrieval, train ranker|retrieval)."""

from __future__ import annotations

import importlib


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    for name in ("phoenix.ranker.cli", "phoenix.retrieval.cli"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # model package not built yet
            raise
        module.register(groups)
