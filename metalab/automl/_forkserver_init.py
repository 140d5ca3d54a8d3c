"""Imported by the fit fork server only (see :mod:`metalab.automl._processes`): the server
asks to be killed when the process that started it dies, and remembers its own pid so the
children it forks can check that they did not outlive it."""

from __future__ import annotations

import os

from ._processes import parent_death_signal

SERVER_PID = os.getpid()
parent_death_signal()
