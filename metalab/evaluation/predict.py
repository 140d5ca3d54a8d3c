"""Classify query images among new classes given by a support folder, with a trained learner."""

from __future__ import annotations

from pathlib import Path

import torch

from metalab.data.folder import image_files, image_folder, read_images
from metalab.errors import DataError
from metalab.training.checkpoint import load_learner


def predict_folders(checkpoint: str | Path, support: str | Path, query: str | Path) -> list[dict]:
    """``[{"query", "predicted", "probability"}]``, one per query image, sorted by file name.

    ``support`` holds one sub-folder per class (one image per class is enough); every image
    of ``query`` is classified among them by the task model the learner adapts to them.
    """
    learner, preprocess, _ = load_learner(checkpoint)
    support_set = image_folder(support, preprocess)
    if support_set.num_classes < 2:
        raise DataError(f"{support} holds {support_set.num_classes} class folder; give at least 2 classes")
    query = Path(query)
    if not query.is_dir():
        raise DataError(f"query folder {query} does not exist or is not a folder")
    files = image_files(query)
    if not files:
        raise DataError(f"query folder {query} holds no images")
    labels = torch.repeat_interleave(torch.arange(support_set.num_classes), support_set.sizes)
    with torch.no_grad():
        task_model = learner.adapt(support_set.images, labels, support_set.num_classes)
        probabilities = task_model(read_images(files, preprocess)).softmax(-1)
    best, index = probabilities.max(-1)
    return [
        {"query": f.name, "predicted": support_set.class_names[i], "probability": round(float(p), 6)}
        for f, i, p in zip(files, index.tolist(), best)
    ]
