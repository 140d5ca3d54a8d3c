"""Task families: what a task is, how it is drawn and scored (one module per family).

:mod:`~metalab.tasks.family` defines the protocol, :mod:`~metalab.tasks.stream` the one
resumable task stream, :mod:`~metalab.tasks.registry` the names ``--dataset`` accepts.
"""
