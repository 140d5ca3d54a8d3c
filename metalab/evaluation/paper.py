"""Published figures to print beside ours: (algorithm, dataset, ways, shots) -> (figure, source).

Omniglot accuracies (%) are for the Vinyals et al. 2016 split (1200 training characters with
rotations) unless a method's paper says otherwise; regression figures (query MSE) have no
ways (None). A source names the table and, where the table has several rows for a method,
the row: Nichol et al.'s first-order MAML and Reptile figures are their "+ Transduction" rows
(batch statistics shared across a task's queries, as metalab's Conv-4 does), and the Siamese
figures are Koch et al.'s network as Finn et al. (and Vinyals et al.) report it: a verification
network trained on pairs, which metalab's episodically trained Siamese Conv-4 is not.
Meta-SGD's Omniglot figures are its 5-way ones as a later paper's table quotes them (Li et
al.'s own table could not be read to check them, nor their 20-way figures, left out).
"""

from __future__ import annotations

PAPER_ACCURACY: dict[tuple[str, str, int | None, int], tuple[float, str]] = {
    ("protonet", "omniglot", 5, 1): (98.8, "Snell et al. 2017, Table 1"),
    ("protonet", "omniglot", 5, 5): (99.7, "Snell et al. 2017, Table 1"),
    ("protonet", "omniglot", 20, 1): (96.0, "Snell et al. 2017, Table 1"),
    ("protonet", "omniglot", 20, 5): (98.9, "Snell et al. 2017, Table 1"),
    **{("maml", "omniglot", w, k): (a, "Finn et al. 2017, Table 1")
       for (w, k), a in zip(((5, 1), (5, 5), (20, 1), (20, 5)), (98.7, 99.9, 95.8, 98.9))},
    **{("fomaml", "omniglot", w, k): (a, "Nichol et al. 2018, Table 2, 1st-order MAML + Transduction")
       for (w, k), a in zip(((5, 1), (5, 5), (20, 1), (20, 5)), (98.3, 99.2, 89.4, 97.9))},
    **{("reptile", "omniglot", w, k): (a, "Nichol et al. 2018, Table 2, Reptile + Transduction")
       for (w, k), a in zip(((5, 1), (5, 5), (20, 1), (20, 5)), (97.68, 99.48, 89.43, 97.12))},
    **{("metasgd", "omniglot", 5, k): (a, "Li et al. 2017, as quoted by the T-NAS paper (ICLR 2020), Table 2")
       for k, a in ((1, 99.53), (5, 99.93))},
    ("taml", "omniglot", 5, 1): (99.23, "Jamal & Qi 2019, Table 1"),
    ("taml", "omniglot", 5, 5): (99.71, "Jamal & Qi 2019, Table 1"),
    **{("siamese", "omniglot", w, k): (a, "Siamese nets (Koch et al. 2015), as reported by Finn et al. 2017, Table 1")
       for (w, k), a in zip(((5, 1), (5, 5), (20, 1), (20, 5)), (97.3, 98.4, 88.2, 97.0))},
    **{("matching", "omniglot", w, k): (a, "Vinyals et al. 2016, Table 1")
       for (w, k), a in zip(((5, 1), (5, 5), (20, 1), (20, 5)), (98.1, 98.9, 93.8, 98.5))},
    # Table 1 of Munkhdalai & Yu is on what the paper calls the previous split of Omniglot
    # (1200 training / 423 test characters, drawn differently from metalab's vinyals split).
    ("metanet", "omniglot", 5, 1): (98.95, "Munkhdalai & Yu 2017, Table 1"),
    ("metanet", "omniglot", 20, 1): (97.00, "Munkhdalai & Yu 2017, Table 1"),
    **{("relation", "omniglot", w, k): (a, "Sung et al. 2018, Table 1")
       for (w, k), a in zip(((5, 1), (5, 5), (20, 1), (20, 5)), (99.6, 99.8, 97.6, 99.1))},
}

# Sinusoid regression (Finn et al. 2017 task family): query MSE. None listed: Li et al. 2017's
# regression table could not be read to check its figures, so none is printed as the paper's.
PAPER_MSE: dict[tuple[str, str, None, int], tuple[float, str]] = {}

# 2D navigation (Finn et al. 2017, Table 4): mean return after 3 policy-gradient steps, the
# headline of :class:`metalab.tasks.navigation.Navigation2D` (the table's other columns are
# NAVIGATION_TABLE4); keyed by trajectories per step (20).
NAVIGATION_TABLE4 = {"maml-rl": (-40.41, -11.68, -3.33, -3.23)}
PAPER_RETURN: dict[tuple[str, str, None, int], tuple[float, str]] = {
    ("maml-rl", "navigation2d", None, 20): (-3.23, "Finn et al. 2017, Table 4 (after 3 steps)"),
    ("maml-rl", "cheetah-dir", None, 20): (315.65, "Finn et al. 2017, Table 5 (after 3 steps)"),
}
# Half-cheetah direction (Finn et al. 2017, Table 5): after 0, 1, 2 and 3 steps, horizon 200.
CHEETAH_DIR_TABLE5 = {"maml-rl": (-50.69, 293.19, 313.48, 315.65)}


def paper_figure(algorithm: str, dataset: str, ways: int | None, shots: int,
                 split: str | None = "vinyals") -> tuple[float, str] | None:
    """The paper's figure and its source, or None when the paper has no such figure (Omniglot
    figures are for the ``vinyals`` split: none is given for another ``split``)."""
    if dataset == "omniglot" and split != "vinyals":
        return None
    key = (algorithm, dataset, ways, shots)
    return PAPER_ACCURACY.get(key) or PAPER_MSE.get(key) or PAPER_RETURN.get(key)
