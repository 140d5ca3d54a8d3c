"""Every simulator an RL learner can run, by name: the point robot's and the half-cheetah's."""

from __future__ import annotations

from metalab.tasks import cheetah, navigation
from metalab.tasks.control import Simulator

SIMULATORS: dict[str, Simulator] = {**navigation.ENVIRONMENTS, **cheetah.ENVIRONMENTS}
