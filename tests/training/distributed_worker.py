"""Run by tests/training/test_distributed.py under torchrun: a few training steps on 2 ranks,
then each rank saves its own learner so the test can check the ranks stayed identical."""

import sys
from pathlib import Path

import torch

from metalab.data.load import omniglot
from metalab.tasks.family import TaskShape
from metalab.tasks.image import ImageClassification
from metalab.training.config import TrainConfig
from metalab.training.loop import new_learner, train

out = Path(sys.argv[1])
config = TrainConfig(ways=5, shots=1, queries=3, meta_batch=2, steps=6, val_every=3, val_episodes=4,
                     out=str(out / "run"), threads=1, device="cpu", learner={"hidden": 16})
tasks = ImageClassification(omniglot("vinyals", "train")), ImageClassification(omniglot("vinyals", "val"))
learner = new_learner(config, tasks[0], TaskShape(config.ways, config.shots, config.queries))
result = train(config, progress=False, learner=learner, tasks=tasks)
torch.save({"steps": result.steps, "model": learner.state_dict()}, out / f"rank{torch.distributed.get_rank()}.pt")
