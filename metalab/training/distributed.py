"""Several processes, one run: the thin layer the training loop uses under ``torchrun``.

``torchrun --nproc_per_node 2 -m metalab train ...`` starts one process per rank. Each rank
draws its own episodes (its stream is seeded from ``(seed, rank)``), gradients are averaged
across ranks before every Adam step, batch-norm statistics are averaged before every
validation, and only rank 0 validates and writes files. Every rank starts from the same
initialisation (same seed), so parameters stay identical. The effective meta-batch is
``meta_batch * world_size``. Backend: NCCL on CUDA, Gloo on the CPU.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
from typing import Any

import torch
import torch.distributed as dist


@dataclasses.dataclass(frozen=True)
class Ranks:
    """This process's place: ``rank`` of ``world_size`` (1 and 0 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def setup(device: torch.device) -> tuple[Ranks, torch.device]:
    """Join the process group torchrun describes (``WORLD_SIZE``, ``RANK``...), if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Ranks(), device
    ranks = Ranks(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # a group left to the interpreter's exit can abort the process while its threads are torn
        # down ("terminate called without an active exception"): destroy it first, once
        atexit.register(teardown)
    return ranks, device


def teardown() -> None:
    """Destroy the process group :func:`setup` joined (safe to call twice or without one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def average_gradients(parameters: list[torch.nn.Parameter], ranks: Ranks) -> None:
    """All-reduce the gradients (one flat buffer) and divide by the number of ranks."""
    if not ranks.active:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= ranks.world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def average_buffers(module: torch.nn.Module, ranks: Ranks) -> None:
    """Average floating-point buffers (batch-norm running statistics) across ranks."""
    if not ranks.active:
        return
    for buffer in module.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer)
            buffer /= ranks.world_size


def any_rank(flag: bool, ranks: Ranks) -> bool:
    """True on every rank if ``flag`` is true on any rank."""
    if not ranks.active:
        return flag
    value = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(value)
    return bool(value.item() > 0)


def gather(value: Any, ranks: Ranks) -> list[Any]:
    """``value`` from every rank, in rank order (a list of one without torchrun)."""
    if not ranks.active:
        return [value]
    out: list[Any] = [None] * ranks.world_size
    dist.all_gather_object(out, value)
    return out


def from_main(value: Any, ranks: Ranks) -> Any:
    """Rank 0's ``value`` on every rank."""
    if not ranks.active:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
