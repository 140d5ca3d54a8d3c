"""metalab: meta-learning ("learning to learn") for PyTorch.

A meta-learner reads a task's support set and returns a task model,
``phi = learner.adapt(support_x, support_y, ways)``, which predicts on the queries,
``phi(query_x)``; meta-training fits the learner so adapted models do well on held-out
queries, on episodes shaped like the test tasks.
"""

from metalab.algorithms import (
    ALGORITHMS, MatchingNet, MetaLearner, MetaLoss, ProtoNet, RelationNet, Siamese, TaskModel, build_learner,
)
from metalab.data.dataset import FewShotDataset
from metalab.data.folder import image_folder
from metalab.data.load import load_dataset, omniglot
from metalab.data.omniglot import download_omniglot
from metalab.data.preprocess import Preprocess
from metalab.errors import CheckpointError, ConfigError, DataError, MetalabError, TrainingDivergedError
from metalab.evaluation.evaluate import EvalResult, evaluate
from metalab.models.conv4 import Conv4
from metalab.tasks.episode import Episode
from metalab.tasks.sampling import EpisodeStream, fixed_episode, fixed_episodes, sample_episode
from metalab.training.allocator import tune_allocator
from metalab.training.checkpoint import load_checkpoint, load_learner
from metalab.training.config import TrainConfig
from metalab.training.loop import TrainResult, train

__version__ = "0.1.0"

__all__ = [
    "ALGORITHMS",
    "CheckpointError",
    "ConfigError",
    "Conv4",
    "DataError",
    "Episode",
    "EpisodeStream",
    "EvalResult",
    "FewShotDataset",
    "MatchingNet",
    "MetaLearner",
    "MetaLoss",
    "MetalabError",
    "Preprocess",
    "ProtoNet",
    "RelationNet",
    "Siamese",
    "TaskModel",
    "TrainConfig",
    "TrainResult",
    "TrainingDivergedError",
    "build_learner",
    "download_omniglot",
    "evaluate",
    "fixed_episode",
    "fixed_episodes",
    "image_folder",
    "load_checkpoint",
    "load_dataset",
    "load_learner",
    "omniglot",
    "sample_episode",
    "train",
    "tune_allocator",
]
