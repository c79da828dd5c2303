"""Regenerate the Python modules for every .proto in this folder (``make protos``).

The generated ``*_pb2.py`` / ``*_pb2.pyi`` / ``*_pb2_grpc.py`` files are committed so the project
imports without a build step; ``tests/test_protos_fresh.py`` fails when they are stale.
Paths are passed relative to the repository root so generated imports read ``from protos import x``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grpc_tools import protoc

PROTO_DIR = Path(__file__).resolve().parent
REPO_ROOT = PROTO_DIR.parent


def proto_sources() -> list[Path]:
    """All .proto files, sorted so generation is deterministic."""
    return sorted(PROTO_DIR.glob("*.proto"))


def generate(out_dir: Path) -> None:
    """Run protoc (from grpcio-tools, pinned with grpcio/protobuf) writing into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).resolve().parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{REPO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(p.relative_to(REPO_ROOT)) for p in proto_sources()],
    ]
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="output root (default: repo)")
    generate(parser.parse_args().out)


if __name__ == "__main__":
    sys.exit(main())
