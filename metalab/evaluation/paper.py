"""Published accuracies (%) to print beside ours: (algorithm, dataset, ways, shots) -> figure.

Omniglot figures are for the Vinyals et al. 2016 split (1200 training characters with
rotations) unless a method's paper says otherwise.
"""

from __future__ import annotations

PAPER_ACCURACY: dict[tuple[str, str, int, int], tuple[float, str]] = {
    ("protonet", "omniglot", 5, 1): (98.8, "Snell et al. 2017, Table 1"),
    ("protonet", "omniglot", 5, 5): (99.7, "Snell et al. 2017, Table 1"),
    ("protonet", "omniglot", 20, 1): (96.0, "Snell et al. 2017, Table 1"),
    ("protonet", "omniglot", 20, 5): (98.9, "Snell et al. 2017, Table 1"),
}


def paper_figure(algorithm: str, dataset: str, ways: int, shots: int) -> tuple[float, str] | None:
    """The paper's accuracy and its source, or None when the paper has no such figure."""
    return PAPER_ACCURACY.get((algorithm, dataset, ways, shots))
