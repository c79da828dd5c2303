"""Dispatch ``python -m bench NAME [args]`` to ``bench/NAME.py:main(argv)``; ``all`` runs each."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_") and m.name != "record")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m bench NAME|all [--quick] [--record]\nbenchmarks:", ", ".join(available()))
        return 0
    name, rest = argv[0], argv[1:]
    names = available() if name == "all" else [name]
    code = 0
    for n in names:
        if n not in available():
            print(f"unknown benchmark {n!r}; available: {', '.join(available())}", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bench.{n}")
        code = max(code, int(module.main(rest) or 0))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
