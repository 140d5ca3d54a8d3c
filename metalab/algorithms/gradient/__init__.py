"""Optimization-based learners: ``adapt`` runs an inner loop (:mod:`metalab.optim`) on
functional parameters, from a meta-learned starting point (MAML and relatives) or with a
meta-learned update rule (L2O, the LSTM meta-learner); MAML-RL adapts policies with policy-gradient steps."""

from metalab.algorithms.gradient.anil import ANIL
from metalab.algorithms.gradient.fomaml import FOMAML
from metalab.algorithms.gradient.l2o import L2O
from metalab.algorithms.gradient.maml import MAML
from metalab.algorithms.gradient.maml_rl import MAMLRL
from metalab.algorithms.gradient.metalstm import MetaLSTM, MetaLSTMConfig
from metalab.algorithms.gradient.metasgd import MetaSGD
from metalab.algorithms.gradient.reptile import Reptile
from metalab.algorithms.gradient.taml import TAML

LEARNERS = (MAML, FOMAML, ANIL, MetaSGD, Reptile, TAML, L2O, MetaLSTM, MAMLRL)

__all__ = ["ANIL", "FOMAML", "L2O", "LEARNERS", "MAML", "MAMLRL", "MetaLSTM", "MetaLSTMConfig", "MetaSGD", "Reptile", "TAML"]
