"""``metalab.optim``: inner-loop optimization as composable values (optax style).

Update rules (:func:`sgd`, :func:`meta_sgd`, :func:`per_step_sgd`, :func:`scale`, :func:`scale_by`, :func:`chain`,
and :func:`learned`, a coordinatewise LSTM optimizer, and :func:`meta_lstm`, the LSTM
meta-learner's gated update) are ``init / update`` pairs with
explicit state, and :func:`inner_loop` (:func:`inner_path`: every step's parameters) takes a loss closure,
so a learned optimizer or a policy-gradient loss plugs in without changing MAML;
:func:`trpo_step` is TRPO's natural-gradient step with a line search (MAML-RL's outer update).
"""

from metalab.optim.inner import inner_loop, inner_path
from metalab.optim.learned import CoordinateLSTM, LearnedOptimizer, learned, preprocess_gradient
from metalab.optim.metalstm import MetaLSTMNet, meta_lstm
from metalab.optim.rules import Params, UpdateRule, apply_rule, chain, meta_sgd, per_step_sgd, scale, scale_by, sgd
from metalab.optim.trpo import TRPOStep, conjugate_gradient, trpo_step

__all__ = ["CoordinateLSTM", "LearnedOptimizer", "MetaLSTMNet", "Params", "TRPOStep", "UpdateRule", "apply_rule", "chain",
           "conjugate_gradient", "inner_loop", "inner_path", "learned", "meta_lstm", "meta_sgd", "per_step_sgd",
           "preprocess_gradient", "scale", "scale_by",
           "sgd", "trpo_step"]
