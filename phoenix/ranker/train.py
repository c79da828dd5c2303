"""Training: masked per-action BCE + dwell loss, AdamW, deterministic, optionally data-parallel.

Two guards against memorising post ids (most posts of a later period were never seen in
training, so their hashed rows are noise): ``post_id_dropout`` blanks a post's id rows (candidate
and history) to the padding row with that probability per example, so the model also learns to
score from author, counts, kind, age and follow flag; and ``user_id_dropout`` does the same to the user id, so the user's tastes are also read from the
history (which generalises to a later period) rather than only memorised in the user's row; and
``train(..., early_stop=...)`` keeps
the weights of the epoch with the lowest loss on a later held-out slice.

Heads start calibrated (``calibrate_heads``, on by default): each action head's bias is the logit
of that action's base rate in the training set, the dwell head's the mean dwell, and the head
weights start at zero, so before any step every prediction IS the base rate. A briefly trained
ranker (the demo's ~50 steps) otherwise still predicts ~0.3-0.45 for rare negative actions
(report, block, mute), which X's large negative weights turn into negative scores everywhere.

Loss normalisation is GLOBAL: every rank sees the same shuffled order of the whole batch, works
on its own contiguous slice, and divides its loss sum by the number of valid candidates in the
WHOLE batch (times ``world_size``, because DDP averages gradients). So N processes take exactly
the same optimizer steps as one process on the same data - the property the DDP test checks.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from phoenix.actions import DWELL_CLIP_S
from phoenix.checkpoint import save_checkpoint
from phoenix.ranker.config import RankerConfig
from phoenix.ranker.examples import Example
from phoenix.ranker.features import RankerBatch, build_batch
from phoenix.ranker.model import PhoenixRanker

log = logging.getLogger(__name__)
CHECKPOINT_KIND = "phoenix-ranker"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.01
    dwell_weight: float = 0.1
    seed: int = 0
    device: str = "cpu"
    max_steps: int | None = None
    progress: bool = True
    post_id_dropout: float = 0.0  # probability a post id is replaced by padding while training
    user_id_dropout: float = 0.0  # same for the user id (forces reading the history instead)
    calibrate_heads: bool = True  # start every head at the training set's base rate (see above)
    # "constant", or "cosine": the learning rate decays from ``lr`` to 0 over the planned steps
    # (after ``warmup_steps`` of linear warm-up), so later epochs refine instead of overfitting.
    lr_schedule: str = "constant"
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {self.warmup_steps}")
        for name in ("post_id_dropout", "user_id_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


@dataclass
class TrainStats:
    steps: int
    examples: int
    final_loss: float
    examples_per_s: float
    best_epoch: int | None = None  # with early stopping: the epoch whose weights were kept (0-based)
    early_stop_losses: tuple[float, ...] = ()  # held-out loss after each epoch


def lr_factor(tcfg: TrainConfig, step: int, total: int) -> float:
    """Multiplier of ``tcfg.lr`` at optimizer step ``step`` of ``total``."""
    if step < tcfg.warmup_steps:
        return (step + 1) / tcfg.warmup_steps
    if tcfg.lr_schedule == "constant":
        return 1.0
    span = max(total - tcfg.warmup_steps, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(step - tcfg.warmup_steps, span) / span))


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def collate(examples: Sequence[Example], cfg: RankerConfig) -> tuple[RankerBatch, torch.Tensor, torch.Tensor]:
    """(batch, labels [B, C, A], dwell targets [B, C] seconds) with candidates padded to the max C."""
    batch = build_batch(
        [e.user for e in examples], [e.candidates for e in examples], [e.time_ms for e in examples], cfg
    )
    c = batch.cand_valid.shape[1]
    labels = torch.zeros(len(examples), c, examples[0].labels.shape[1] if examples else 0)
    dwell = torch.zeros(len(examples), c)
    for i, e in enumerate(examples):
        labels[i, : len(e.candidates)] = torch.from_numpy(e.labels)
        dwell[i, : len(e.candidates)] = torch.from_numpy(e.dwell_s)
    return batch, labels, dwell


def base_rates(examples: Sequence[Example]) -> tuple[np.ndarray, float]:
    """(per-action positive rate [A], mean dwell seconds) over every candidate of ``examples``.
    Rates are smoothed ((positives + 0.5) / (n + 1)) so an action never seen gets a small
    finite logit, not -inf."""
    labels = np.concatenate([e.labels for e in examples])
    dwell = np.concatenate([e.dwell_s for e in examples])
    rates = (labels.sum(0) + 0.5) / (len(labels) + 1.0)
    return rates.astype(np.float64), float(dwell.mean()) if len(dwell) else 0.0


@torch.no_grad()
def calibrate_heads(model: PhoenixRanker, examples: Sequence[Example]) -> None:
    """Heads output exactly the base rates of ``examples`` (weights 0, biases = logits)."""
    rates, dwell_mean = base_rates(examples)
    if rates.shape[0] != model.action_head.out_features:
        raise ValueError(
            f"examples have {rates.shape[0]} labels, the model {model.action_head.out_features} heads"
        )
    model.action_head.weight.zero_()
    model.action_head.bias.copy_(torch.from_numpy(np.log(rates / (1 - rates))).to(model.action_head.bias))
    frac = min(max(dwell_mean / DWELL_CLIP_S, 1e-4), 1 - 1e-4)  # dwell = sigmoid(head) * clip
    model.dwell_head.weight.zero_()
    model.dwell_head.bias.fill_(math.log(frac / (1 - frac)))


def drop_ids(batch: RankerBatch, keys: Sequence[int], seed: int, post_p: float, user_p: float = 0.0) -> None:
    """Blank post-id rows (candidates and history) with probability ``post_p`` and the user id
    with ``user_p``, in place. The draw for an example depends only on ``(seed, key)``, so
    data-parallel ranks make the same choices as one process would."""
    if post_p <= 0 and user_p <= 0:
        return
    c, s = batch.cand_post_rows.shape[1], batch.hist_post_rows.shape[1]
    draws = np.stack([np.random.default_rng([seed, int(k)]).random(c + s + 1) for k in keys])
    drop_t = torch.from_numpy(draws[:, : c + s] < post_p)
    batch.cand_post_rows[drop_t[:, :c]] = 0
    batch.hist_post_rows[drop_t[:, c:]] = 0
    batch.user_rows[torch.from_numpy(draws[:, -1] < user_p)] = 0


@torch.no_grad()
def mean_loss(
    model: PhoenixRanker, examples: Sequence[Example], tcfg: TrainConfig, batch_size: int = 64
) -> float:
    """Mean per-candidate training loss (BCE over actions + dwell term) on ``examples``."""
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    device = torch.device(tcfg.device)
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        batch, labels, dwell = collate(chunk, model.cfg)
        total += float(
            loss_sums(model, batch.to(device), labels.to(device), dwell.to(device), tcfg.dwell_weight)
        )
        n += sum(len(e.candidates) for e in chunk)
    model.train(was_training)
    return total / max(n, 1)


def loss_sums(
    model: torch.nn.Module, batch: RankerBatch, labels: torch.Tensor, dwell: torch.Tensor, dwell_weight: float
) -> torch.Tensor:
    """Sum over valid candidates of (Σ_actions BCE + dwell_weight · |dwell error| / 30)."""
    logits, dwell_pred = model(batch)
    valid = batch.cand_valid.to(logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none").sum(-1)
    dwell_err = (dwell_pred - dwell).abs() / DWELL_CLIP_S
    return ((bce + dwell_weight * dwell_err) * valid).sum()


def train(
    model: PhoenixRanker,
    examples: Sequence[Example],
    tcfg: TrainConfig,
    *,
    rank: int = 0,
    world_size: int = 1,
    early_stop: Sequence[Example] = (),
) -> TrainStats:
    """Train in place. With ``world_size > 1`` the process group must already be initialised.

    With ``early_stop`` examples (a period after the training data), the held-out loss is
    measured after every epoch and the model ends with the weights of the best epoch.
    """
    if not examples:
        raise ValueError("no training examples")
    seed_everything(tcfg.seed)
    if tcfg.calibrate_heads:
        calibrate_heads(model, examples)
    device = torch.device(tcfg.device)
    model.to(device).train()
    net: torch.nn.Module = model
    if world_size > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index or 0] if device.type == "cuda" else None
        )
    # The fused kernel updates each parameter in one pass: on CPU the dense hashed-embedding
    # tables (millions of rows, every row decayed every step) made the per-op AdamW ~25% of a step.
    fused = device.type in ("cpu", "cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay, fused=fused)
    steps_per_epoch = math.ceil(len(examples) / tcfg.batch_size)
    total = (
        steps_per_epoch * tcfg.epochs
        if tcfg.max_steps is None
        else min(tcfg.max_steps, steps_per_epoch * tcfg.epochs)
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(tcfg, step, total))
    show = tcfg.progress and rank == 0
    progress = Progress(
        TextColumn("train ranker"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[eps]:.0f} ex/s"),
        TimeElapsedColumn(), disable=not show,
    )  # fmt: skip
    step, seen, loss_value, started = 0, 0, float("nan"), time.perf_counter()
    held_out: list[float] = []
    best_state: dict[str, torch.Tensor] | None = None
    with progress:
        task = progress.add_task("train", total=total, loss=float("nan"), eps=0.0)
        for epoch in range(tcfg.epochs):
            order = np.random.default_rng(tcfg.seed + epoch).permutation(len(examples))
            for start in range(0, len(order), tcfg.batch_size):
                if step >= total:
                    break
                idx = order[start : start + tcfg.batch_size]
                if len(idx) < world_size:
                    continue  # a tail too small to give every rank an example is dropped
                global_valid = sum(len(examples[i].candidates) for i in idx)
                mine = np.array_split(idx, world_size)[rank]
                opt.zero_grad(set_to_none=True)
                batch, labels, dwell = collate([examples[i] for i in mine], model.cfg)
                keys = [epoch * len(examples) + int(i) for i in mine]
                drop_ids(batch, keys, tcfg.seed, tcfg.post_id_dropout, tcfg.user_id_dropout)
                local = loss_sums(
                    net, batch.to(device), labels.to(device), dwell.to(device), tcfg.dwell_weight
                )
                (local * world_size / max(global_valid, 1)).backward()
                opt.step()
                schedule.step()
                step += 1
                seen += len(idx)
                loss_value = float(local.detach()) / max(global_valid, 1) * world_size
                progress.update(task, advance=1, loss=loss_value, eps=seen / (time.perf_counter() - started))
            if early_stop:
                eval_started = time.perf_counter()
                held_out.append(mean_loss(model, early_stop, tcfg))
                if held_out[-1] <= min(held_out):
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                log.info("epoch %d: held-out loss %.5f", epoch, held_out[-1])
                model.train()
                started += time.perf_counter() - eval_started  # throughput counts training only
            if step >= total:
                break
    elapsed = time.perf_counter() - started
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainStats(
        step, seen, loss_value, seen / elapsed if elapsed > 0 else 0.0,
        best_epoch=int(np.argmin(held_out)) if held_out else None, early_stop_losses=tuple(held_out),
    )  # fmt: skip


def save_ranker(model: PhoenixRanker, directory: str | os.PathLike) -> str:
    """Checkpoint the model with its config; returns the model version."""
    state = {k: v for k, v in model.state_dict().items()}
    return save_checkpoint(directory, CHECKPOINT_KIND, state, {"ranker": model.cfg.to_dict()})


def init_distributed_from_env(device: str = "cpu") -> tuple[int, int, str]:
    """(rank, world_size, device) from torchrun's environment; initialises gloo (CPU) or nccl
    (CUDA, one GPU per process: ``cuda`` becomes ``cuda:LOCAL_RANK``)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if device == "cuda" and world > 1:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(torch.device(device))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo", rank=rank, world_size=world)
    return rank, world, device
