"""Saving and loading the two-tower model through ``phoenix.checkpoint`` (safetensors + config.json)."""

from __future__ import annotations

from pathlib import Path

from phoenix.checkpoint import CheckpointError, load_checkpoint, load_state_into, save_checkpoint
from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel

KIND = "retrieval"


def save_model(directory: str | Path, model: TwoTowerModel) -> str:
    """Write the model; returns its content-derived version string."""
    return save_checkpoint(directory, KIND, model.state_dict(), {"model": model.cfg.to_dict()})


def load_model(directory: str | Path, device: str = "cpu") -> tuple[TwoTowerModel, str]:
    """Rebuild the model from its config and strictly load the weights (eval mode)."""
    ckpt = load_checkpoint(directory, KIND)
    try:
        cfg = RetrievalConfig.from_dict(ckpt.config["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{directory}: config.json has no valid retrieval model config: {exc}") from exc
    model = TwoTowerModel(cfg)
    load_state_into(model, ckpt.state, where=str(directory))
    return model.to(device).eval(), ckpt.version
