"""The LSTM meta-learner (Ravi & Larochelle, ICLR 2017, "Optimization as a model for few-shot learning").

MAML with a learned inner update: ``adapt`` runs ``inner_steps`` steps of the gated LSTM
rule :func:`metalab.optim.meta_lstm` on the support loss, starting from a meta-learned
initialisation (the LSTM's initial cell state ``c_0``); the rule's input and forget gates act
as per-coordinate learning rate and weight decay. Meta-training minimises the query loss over
``c_0`` and the rule's weights together, dropping the second-order terms through the
learner's gradients as the paper does (``first_order``; set it False for the exact
meta-gradient). Batch norm uses the current batch's statistics at test time too, as in the
paper. Before training the rule is gradient descent with step ``inner_lr``, so the learner
starts where MAML starts.
"""

from __future__ import annotations

import dataclasses

from metalab.algorithms.gradient.maml import MAML, MAMLConfig
from metalab.checks import option
from metalab.optim import MetaLSTMNet, UpdateRule, meta_lstm


@dataclasses.dataclass(frozen=True)
class MetaLSTMConfig(MAMLConfig):
    """:class:`~metalab.algorithms.gradient.maml.MAMLConfig` with the rule's own settings.

    Attributes:
        lstm_hidden: units of the rule's first LSTM (20 in the paper).
        forget_bias: the forget gate's starting bias (``sigmoid(6) = 0.9975``: almost no decay).
        inner_lr: the input gate's starting value (the step of the untrained rule), in (0, 1).
        inner_steps / eval_inner_steps: the rule is trained for ``inner_steps`` steps and, by
            default, evaluated with as many (``eval_inner_steps`` None).
    """

    inner_steps: int = 5
    inner_lr: float = option(0.4, minimum=0.01, maximum=0.99, meaning=" (the rule's starting input gate, a sigmoid value)")
    eval_inner_steps: int | None = None
    first_order: bool = True
    lstm_hidden: int = option(20, minimum=1)
    forget_bias: float = option(6.0, above=0)


class MetaLSTM(MAML):
    """A meta-learned initialisation adapted by a meta-learned LSTM update rule."""

    name = "metalstm"
    Config = MetaLSTMConfig
    unsupported = frozenset({"learned_lrs"})  # the LSTM's gates are its rates

    def __init__(self, config: MetaLSTMConfig | None = None) -> None:
        super().__init__(config)
        self.rule_net = MetaLSTMNet(self.config.lstm_hidden, initial_rate=self.config.inner_lr, forget_bias=self.config.forget_bias)

    def inner_rule(self, outer: bool) -> UpdateRule:
        return meta_lstm(self.rule_net)
