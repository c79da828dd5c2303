from __future__ import annotations

import json

import pytest
import torch

from phoenix.checkpoint import CheckpointError, load_checkpoint, load_state_into, save_checkpoint


def test_roundtrip_and_content_version(tmp_path) -> None:
    model = torch.nn.Linear(3, 2)
    v1 = save_checkpoint(tmp_path / "a", "toy", model.state_dict(), {"width": 3})
    v1b = save_checkpoint(tmp_path / "b", "toy", model.state_dict(), {"width": 3})
    assert v1 == v1b and v1.startswith("toy-")
    ck = load_checkpoint(tmp_path / "a", "toy")
    assert ck.version == v1 and ck.config["width"] == 3
    other = torch.nn.Linear(3, 2)
    load_state_into(other, ck.state)
    assert torch.equal(other.weight, model.weight)
    with torch.no_grad():
        model.weight.add_(1)
    assert save_checkpoint(tmp_path / "c", "toy", model.state_dict(), {"width": 3}) != v1


def test_errors_say_what_is_wrong(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope", "toy")
    save_checkpoint(tmp_path / "a", "toy", torch.nn.Linear(3, 2).state_dict(), {})
    with pytest.raises(CheckpointError, match="expected 'ranker'"):
        load_checkpoint(tmp_path / "a", "ranker")
    (tmp_path / "a" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "a", "toy")
    save_checkpoint(tmp_path / "b", "toy", torch.nn.Linear(3, 2).state_dict(), {})
    (tmp_path / "b" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "b", "toy")
    save_checkpoint(tmp_path / "c", "toy", torch.nn.Linear(3, 2).state_dict(), {})
    cfg = json.loads((tmp_path / "c" / "config.json").read_text())
    cfg["extra"] = 1
    (tmp_path / "c" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path / "c", "toy")


def test_state_must_fit_model() -> None:
    with pytest.raises(CheckpointError, match="shape"):
        load_state_into(torch.nn.Linear(3, 2), torch.nn.Linear(4, 2).state_dict())
    with pytest.raises(CheckpointError, match="missing"):
        load_state_into(torch.nn.Linear(3, 2), {"weight": torch.zeros(2, 3)})
    bad = torch.nn.Linear(3, 2).state_dict()
    bad["weight"][0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        load_state_into(torch.nn.Linear(3, 2), bad)
