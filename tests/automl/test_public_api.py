"""The public surface of metalab.automl: names and import paths stay put."""

from __future__ import annotations

import metalab.automl as automl


def test_all_names_import_from_the_package_root():
    for name in automl.__all__:
        assert getattr(automl, name) is not None


def test_import_paths_are_pinned():
    from metalab.automl import AutoClassifier, MetaBase, compute_metafeatures, ensemble_selection
    from metalab.automl.ensemble import ensemble_selection as E
    from metalab.automl.estimator import AutoClassifier as A
    from metalab.automl.metabase import MetaBase as M
    from metalab.automl.metafeatures import compute_metafeatures as C

    assert (AutoClassifier, MetaBase, compute_metafeatures, ensemble_selection) == (A, M, C, E)


def test_estimator_constructor_only_stores_parameters():
    model = automl.AutoClassifier(time_budget=-1, metabase="nowhere", seed="x")
    assert model.get_params()["time_budget"] == -1  # validated at fit, as scikit-learn does
    assert not any(name.endswith("_") for name in vars(model))
