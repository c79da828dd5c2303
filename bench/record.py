"""Write a benchmark's result JSON with the exact command that produced it."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def emit(name: str, result: dict, record: bool, command: str | None = None) -> None:
    """Print the result as the last line; with ``record`` also save it as bench/results/NAME.json.

    ``command`` is the bench name to write in the recorded command line when it differs from the
    file name (e.g. ``python -m bench replay --quick`` recorded as ``replay_quick.json``)."""
    if record:
        RESULTS.mkdir(exist_ok=True)
        payload = {
            "command": "python -m bench " + " ".join([command or name, *sys.argv[2:]]),
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"{platform.machine()} {platform.processor() or ''} cores={__import__('os').cpu_count()}".strip(),
            "result": result,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(result), flush=True)
