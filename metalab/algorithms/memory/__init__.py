"""Model-based learners: ``adapt`` writes the support set into a memory or fast weights,
and the task model reads them back. (None yet.)"""

LEARNERS: tuple = ()

__all__ = ["LEARNERS"]
