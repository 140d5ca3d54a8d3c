"""metalab: meta-learning ("learning to learn") for PyTorch.

A meta-learner reads a task's support set and returns a task model,
``phi = learner.adapt(support_x, support_y, ways)``, which predicts on the queries,
``phi(query_x)``; meta-training fits the learner so adapted models do well on held-out
queries, on tasks shaped like the test tasks. What a task is (image classification,
regression on functions) is a task family (:mod:`metalab.tasks`); inner-loop optimization is
:mod:`metalab.optim`; meta-learning for AutoML is :mod:`metalab.automl` (an extra).
"""

from metalab import optim
from metalab.algorithms import (
    ALGORITHMS, ANIL, FOMAML, L2O, MAML, MAMLRL, MANN, TAML, MatchingNet, MetaLearner, MetaLoss, MetaLSTM, MetaNet,
    MetaSGD, ProtoNet, RelationNet, RL2,
    Reptile, Runtime, Siamese, TaskModel, build_learner, learner_config,
)
from metalab.data.dataset import FewShotDataset
from metalab.data.folder import image_folder
from metalab.data.load import load_dataset, omniglot
from metalab.data.omniglot import download_omniglot
from metalab.data.preprocess import Preprocess
from metalab.errors import CheckpointError, ConfigError, DataError, MetalabError, TrainingDivergedError
from metalab.evaluation.evaluate import EvalResult, evaluate
from metalab.evaluation.paper import paper_figure
from metalab.evaluation.predict import predict_folders
from metalab.models.backbones import BACKBONES, WithHead, build_encoder, register_backbone
from metalab.models.conv4 import Conv4
from metalab.tasks.bandit import Bandit
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.functions import FunctionTasks
from metalab.tasks.cheetah import HalfCheetahTasks
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.optimizees import Quadratics
from metalab.tasks.image import EpisodeStream, ImageClassification, fixed_episode, fixed_episodes, sample_episode
from metalab.tasks.registry import FAMILIES, FamilyOptions, load_tasks, register_family
from metalab.tasks.regression import DrawnFunctions, RegressionTasks, Sinusoid
from metalab.tasks.sequences import OmniglotSequences
from metalab.tasks.seeding import derive_seed
from metalab.tasks.stream import TaskStream, fixed_tasks
from metalab.training.allocator import tune_allocator
from metalab.training.checkpoint import load_checkpoint, load_learner
from metalab.training.config import TrainConfig
from metalab.training.loop import TrainResult, train

__version__ = "0.1.0"

__all__ = [
    "ALGORITHMS", "ANIL", "BACKBONES", "Bandit", "CheckpointError", "ConfigError", "Conv4", "DataError", "DrawnFunctions",
    "Episode", "EpisodeStream", "EvalResult", "FAMILIES", "FOMAML", "FamilyOptions", "FewShotDataset",
    "FunctionTasks", "HalfCheetahTasks", "ImageClassification", "L2O", "MAML", "MAMLRL", "MANN", "MatchingNet", "MetaLearner", "MetaLoss",
    "MetaLSTM", "MetaNet", "MetaSGD", "MetalabError", "Navigation2D", "OmniglotSequences", "Preprocess", "ProtoNet", "Quadratics",
    "RegressionTasks", "RelationNet", "Reptile", "RL2", "Runtime", "Siamese",
    "Sinusoid", "TAML", "TaskFamily", "TaskModel", "TaskShape", "TaskStream", "TrainConfig", "TrainResult",
    "TrainingDivergedError", "WithHead", "build_encoder", "build_learner", "derive_seed", "download_omniglot",
    "evaluate", "fixed_episode", "fixed_episodes", "fixed_tasks", "image_folder", "learner_config",
    "load_checkpoint", "load_dataset", "load_learner", "load_tasks", "omniglot", "optim", "paper_figure",
    "predict_folders", "register_backbone", "register_family", "sample_episode", "train", "tune_allocator",
]
