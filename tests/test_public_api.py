"""The public import paths; anything else is private and may change."""

import metalab


def test_public_names_import_from_the_package_root():
    for name in metalab.__all__:
        assert getattr(metalab, name) is not None, name


def test_public_surface_is_pinned():
    assert {"MetaLearner", "ProtoNet", "Episode", "EpisodeStream", "fixed_episode", "TrainConfig", "train",
            "evaluate", "load_learner", "omniglot", "image_folder", "Preprocess", "download_omniglot"} <= set(metalab.__all__)
    assert metalab.ALGORITHMS["protonet"] is metalab.ProtoNet
