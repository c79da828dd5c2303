"""Model checkpoints: ``model.safetensors`` + ``config.json`` in one directory, never pickle.

safetensors holds only tensors, so loading a checkpoint can never execute code. The version
string is derived from the content (a hash of the weights and config), so two servers that
load the same checkpoint report the same version and a changed checkpoint always gets a new
one. Writes go to temporary files renamed into place, so a reader never sees half a checkpoint.
Every failure raises ``CheckpointError`` saying what is wrong and where.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, malformed, or does not fit the model it is loaded into."""


@dataclass(frozen=True)
class Checkpoint:
    state: dict[str, torch.Tensor]
    config: dict
    version: str
    path: Path


def model_version(kind: str, weights: bytes, config: dict) -> str:
    digest = hashlib.sha256(weights)
    digest.update(json.dumps(config, sort_keys=True).encode())
    return f"{kind}-{digest.hexdigest()[:16]}"


def save_checkpoint(directory: str | Path, kind: str, state: dict[str, torch.Tensor], config: dict) -> str:
    """Write ``state`` and ``config`` under ``directory``; returns the model version string."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in state.items()}
    full_config = {"kind": kind, "format_version": FORMAT_VERSION, **config}
    tmp_weights = directory / f".{WEIGHTS_FILE}.tmp"
    save_file(tensors, str(tmp_weights))
    version = model_version(kind, tmp_weights.read_bytes(), full_config)
    full_config["model_version"] = version
    tmp_config = directory / f".{CONFIG_FILE}.tmp"
    tmp_config.write_text(json.dumps(full_config, indent=2, sort_keys=True) + "\n")
    os.replace(tmp_weights, directory / WEIGHTS_FILE)
    os.replace(tmp_config, directory / CONFIG_FILE)
    return version


def load_checkpoint(directory: str | Path, kind: str) -> Checkpoint:
    """Read and validate a checkpoint directory written by ``save_checkpoint`` for model ``kind``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint directory {directory} does not exist")
    weights_path, config_path = directory / WEIGHTS_FILE, directory / CONFIG_FILE
    for p in (weights_path, config_path):
        if not p.is_file():
            raise CheckpointError(f"checkpoint {directory} has no {p.name}")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{config_path} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path} must hold a JSON object, got {type(config).__name__}")
    if config.get("kind") != kind:
        raise CheckpointError(f"{directory} is a {config.get('kind')!r} checkpoint, expected {kind!r}")
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{directory} has format_version {config.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    weights = weights_path.read_bytes()
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights_path} is not a readable safetensors file: {exc}") from exc
    stored = config.pop("model_version", None)
    version = model_version(kind, weights, config)
    if stored is not None and stored != version:
        raise CheckpointError(
            f"{directory}: weights/config do not match the recorded version {stored} (content is {version})"
        )
    return Checkpoint(state=state, config=config, version=version, path=directory)


def load_state_into(
    model: torch.nn.Module, state: dict[str, torch.Tensor], where: str = "checkpoint"
) -> None:
    """Strictly load ``state`` into ``model``: names, shapes and finiteness must all match."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{where} does not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise CheckpointError(
                f"{where}: {name} has shape {tuple(tensor.shape)}, model expects {tuple(expected[name].shape)}"
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{where}: {name} contains NaN or infinite values")
    model.load_state_dict(state, strict=True)
