"""The one seed derivation every sampler uses: independent streams from a few integers.

``derive_seed(seed, index)`` is fixed evaluation task ``index`` of ``seed``; families add a
salt of their own (a regression family its part, so validation never sees the test tasks),
and the training loop gives each process of a distributed run its own stream with
``derive_seed(seed, RANK_SALT + rank)``. NumPy's ``SeedSequence`` keeps nearby inputs
independent; the result is a 63-bit integer for ``torch.Generator.manual_seed``.
"""

from __future__ import annotations

import numpy as np
import torch

RANK_SALT = 1 << 40  # far above any evaluation task index


def derive_seed(*words: int) -> int:
    """A 63-bit seed that is a pure function of ``words`` (non-negative integers)."""
    state = np.random.SeedSequence(list(words)).generate_state(2, np.uint32)
    return int(state.astype(np.uint64) @ [1, 1 << 31])


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (no global RNG is touched)."""
    return torch.Generator().manual_seed(seed)
