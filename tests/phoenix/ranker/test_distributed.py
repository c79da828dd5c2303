"""Two gloo processes must take the same optimizer steps as one process on the same data."""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from phoenix.ranker.config import small_config
from phoenix.ranker.examples import build_examples
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import TrainConfig, train

from .synthetic import TinyWorld

TCFG = TrainConfig(epochs=1, batch_size=8, lr=3e-3, progress=False, max_steps=4)


def _examples():
    world = TinyWorld(users=12, posts=60, topics=2, seed=3)
    return build_examples(world.posts(), world.engagements(16), history_len=8, max_candidates=4)[0]


def _model() -> PhoenixRanker:
    torch.manual_seed(0)
    return PhoenixRanker(small_config(history_len=8))


def _worker(rank: int, world_size: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        model = _model()
        train(model, _examples(), TCFG, rank=rank, world_size=world_size)
        if rank == 0:
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_equal_one(tmp_path) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = _model()
        train(single, _examples(), TCFG)
    finally:
        torch.set_num_threads(before)
    out = str(tmp_path / "ddp.safetensors")
    mp.spawn(_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    ddp_state = load_file(out)
    initial = _model().state_dict()
    moved = 0
    for name, tensor in single.state_dict().items():
        assert torch.allclose(tensor, ddp_state[name], atol=1e-5, rtol=1e-4), name
        moved += int(not torch.equal(tensor, initial[name]))
    assert moved > 10  # training really changed the weights
