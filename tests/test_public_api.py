"""The public import paths; anything else is private and may change."""

import metalab

SURFACE = {
    # learners, by family, and their contract
    "ALGORITHMS", "MetaLearner", "MetaLoss", "TaskModel", "Runtime", "build_learner", "learner_config",
    "ProtoNet", "Siamese", "MatchingNet", "RelationNet", "MAML", "FOMAML", "ANIL", "MetaSGD", "MetaLSTM", "Reptile", "TAML", "MAMLRL", "MANN", "MetaNet", "RL2",
    # task families
    "TaskFamily", "TaskShape", "TaskStream", "fixed_tasks", "derive_seed", "FAMILIES", "FamilyOptions",
    "load_tasks", "register_family", "ImageClassification", "RegressionTasks", "DrawnFunctions", "Sinusoid",
    "FunctionTasks", "Navigation2D", "HalfCheetahTasks", "Bandit", "OmniglotSequences", "Episode", "EpisodeStream", "fixed_episode", "fixed_episodes", "sample_episode",
    # data
    "FewShotDataset", "image_folder", "load_dataset", "omniglot", "download_omniglot", "Preprocess",
    # models and inner-loop optimization
    "Conv4", "BACKBONES", "L2O", "Quadratics", "WithHead", "build_encoder", "register_backbone", "optim",
    # training, evaluation, prediction
    "TrainConfig", "TrainResult", "train", "tune_allocator", "load_checkpoint", "load_learner",
    "EvalResult", "evaluate", "paper_figure", "predict_folders",
    # errors
    "MetalabError", "ConfigError", "DataError", "CheckpointError", "TrainingDivergedError",
}


def test_public_names_import_from_the_package_root():
    for name in metalab.__all__:
        assert getattr(metalab, name) is not None, name


def test_public_surface_is_pinned():
    assert set(metalab.__all__) == SURFACE
    assert metalab.ALGORITHMS["protonet"] is metalab.ProtoNet and metalab.ALGORITHMS["maml"] is metalab.MAML
    assert set(metalab.optim.__all__) == {"CoordinateLSTM", "LearnedOptimizer", "Params", "UpdateRule", "chain", "inner_loop", "learned",
                                          "meta_sgd", "preprocess_gradient", "scale", "scale_by", "sgd", "meta_lstm", "apply_rule",
                                          "MetaLSTMNet", "TRPOStep", "conjugate_gradient", "trpo_step", "inner_path", "per_step_sgd"}


def test_every_registered_learner_is_public():
    assert {cls.__name__ for cls in metalab.ALGORITHMS.values()} <= set(metalab.__all__)


def test_data_does_not_import_tasks():
    """The data layer stands below the task families: no import cycle between them."""
    import ast
    from pathlib import Path

    for file in (Path(metalab.__file__).parent / "data").glob("*.py"):
        imported = [node.module for node in ast.walk(ast.parse(file.read_text()))
                    if isinstance(node, ast.ImportFrom) and node.module]
        assert not any(m.startswith("metalab.tasks") for m in imported), file
