"""First-order MAML (Finn, Abbeel & Levine, ICML 2017, Sec. 5.2).

MAML with the second derivatives dropped: the inner gradients are detached, so the
meta-gradient of the query loss at theta'_i is applied to theta as if
``d theta'_i / d theta = I`` (the paper's first-order approximation; 98.3% vs 98.7% on
Omniglot 5-way 1-shot in its Table 1).
"""

from __future__ import annotations

import dataclasses

from metalab.algorithms.gradient.maml import MAML, MAMLConfig


@dataclasses.dataclass(frozen=True)
class FOMAMLConfig(MAMLConfig):
    """:class:`MAMLConfig` with ``first_order=True``."""

    first_order: bool = True


class FOMAML(MAML):
    """First-order MAML."""

    name = "fomaml"
    Config = FOMAMLConfig
