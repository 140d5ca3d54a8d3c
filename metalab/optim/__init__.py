"""``metalab.optim``: inner-loop optimization as composable values (optax style).

Update rules (:func:`sgd`, :func:`meta_sgd`, :func:`scale`, :func:`scale_by`, :func:`chain`,
and :func:`learned`, a coordinatewise LSTM optimizer) are ``init / update`` pairs with
explicit state, and :func:`inner_loop` takes a loss closure,
so a learned optimizer or a policy-gradient loss plugs in without changing MAML;
:func:`trpo_step` is TRPO's natural-gradient step with a line search (MAML-RL's outer update).
"""

from metalab.optim.inner import inner_loop
from metalab.optim.learned import CoordinateLSTM, LearnedOptimizer, learned, preprocess_gradient
from metalab.optim.trpo import TRPOStep, conjugate_gradient, trpo_step
from metalab.optim.rules import Params, UpdateRule, chain, meta_sgd, scale, scale_by, sgd

__all__ = ["CoordinateLSTM", "LearnedOptimizer", "Params", "TRPOStep", "UpdateRule", "chain", "conjugate_gradient",
           "inner_loop", "learned", "meta_sgd", "preprocess_gradient", "scale", "scale_by", "sgd", "trpo_step"]
