"""The meta-knowledge base: per dataset, its meta-features and its evaluated configurations.

Two forms, one reader:

* **An Optuna storage** (what ``metalab automl build-metabase`` fills): one study per dataset,
  named ``metalab:<dataset>``, whose user attributes hold ``metafeatures`` (a dict), ``group``
  and ``complete`` (set once its search finished), and whose trials are every configuration
  evaluated, with its cross-validated balanced accuracy (failed ones with state FAIL); once
  ``metalab automl cross-evaluate --write <the storage>`` has run, also ``cross_candidate``
  (the dataset's configuration if it is a candidate), ``cross_scores`` and ``cross_seconds``. A plain
  file path means an SQLite file; any database URL Optuna accepts works (PostgreSQL, MySQL) for
  several machines. Several worker processes may fill one storage at once: a worker claims a
  dataset by creating its study, which the database lets only one of them do.
* **A compact JSON export** (``metalab automl export-metabase``): the meta-features and the best
  few configurations of each dataset, and, once ``metalab automl cross-evaluate --write`` has
  run, the candidate configurations and their score on every dataset (see
  :mod:`metalab.automl.portfolio`). The package ships one, ``default_metabase.json``, built
  and cross-evaluated on the KEEL corpus.

:func:`load_metabase` reads either into a :class:`MetaBase`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from metalab.errors import MetabaseError

__all__ = [
    "DEFAULT_METABASE",
    "STUDY_PREFIX",
    "DatasetRecord",
    "MetaBase",
    "load_metabase",
    "open_storage",
    "storage_url",
    "store_cross",
]

STUDY_PREFIX = "metalab:"
DEFAULT_METABASE = Path(__file__).with_name("default_metabase.json")
_FORMAT = "metalab-metabase"


@dataclass(frozen=True)
class DatasetRecord:
    """What the base knows about one dataset.

    Attributes:
        name: the dataset's name.
        group: its group (datasets of one origin share it).
        metafeatures: meta-feature name -> value.
        configs: (score, configuration) pairs, best first.
    """

    name: str
    group: str
    metafeatures: dict[str, float]
    configs: tuple[tuple[float, dict[str, Any]], ...]


@dataclass(frozen=True)
class MetaBase:
    """A read-only set of :class:`DatasetRecord`, from a storage or a JSON export."""

    records: tuple[DatasetRecord, ...]
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    # Cross-evaluation (see metalab.automl.portfolio), empty when the base has none:
    # origin dataset -> (its group, its best configuration), and
    # dataset -> origin -> balanced accuracy of that candidate on that dataset, and
    # dataset -> origin -> wall seconds its cross-validation took (empty in older bases).
    candidates: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    cross_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    cross_seconds: dict[str, dict[str, float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def without_groups(self, groups: Iterable[str]) -> MetaBase:
        """The base without the datasets of these groups (for leave-one-group-out runs)."""
        dropped = set(groups)
        records = tuple(r for r in self.records if r.group not in dropped)
        kept = {r.name for r in records}
        return MetaBase(
            records, self.source, dict(self.info),
            {o: c for o, c in self.candidates.items() if c[0] not in dropped},
            {d: dict(s) for d, s in self.cross_scores.items() if d in kept},
            {d: dict(s) for d, s in self.cross_seconds.items() if d in kept},
        )

    def with_cross(self, candidates: Mapping[str, tuple[str, dict[str, Any]]],
                   scores: Mapping[str, Mapping[str, float]],
                   seconds: Mapping[str, Mapping[str, float]] | None = None) -> MetaBase:
        """This base with cross-evaluated candidates, their scores per dataset and
        (optionally) the seconds each took there."""
        return MetaBase(self.records, self.source, dict(self.info),
                        {o: (g, dict(c)) for o, (g, c) in candidates.items()},
                        {d: {o: float(v) for o, v in s.items()} for d, s in scores.items()},
                        {d: {o: float(v) for o, v in s.items()} for d, s in (seconds or {}).items()})

    def to_json(self, path: str | os.PathLike[str], *, top: int = 10,
                info: Mapping[str, Any] | None = None) -> None:
        """Write the compact export: meta-features and the ``top`` best configs per dataset."""
        payload = {
            "format": _FORMAT,
            "version": 1,
            "info": dict(info if info is not None else self.info),
            "datasets": [
                {
                    "name": r.name,
                    "group": r.group,
                    "metafeatures": {k: round(v, 6) for k, v in r.metafeatures.items()},
                    "configs": [
                        {"score": round(score, 6), "config": config}
                        for score, config in r.configs[:top]
                    ],
                }
                for r in self.records
            ],
        }
        if self.candidates:
            payload["candidates"] = [{"origin": o, "group": g, "config": c}
                                     for o, (g, c) in self.candidates.items()]
            payload["cross_scores"] = {d: {o: round(v, 6) for o, v in s.items()}
                                       for d, s in self.cross_scores.items()}
            if self.cross_seconds:
                payload["cross_seconds"] = {d: {o: round(v, 3) for o, v in s.items()}
                                            for d, s in self.cross_seconds.items()}
        Path(path).write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> MetaBase:
        path = Path(path)
        if not path.is_file():
            raise MetabaseError(
                f"no metabase file at {path}; build one with `metalab automl build-metabase` "
                "and export it with `metalab automl export-metabase`"
            )
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("format") != _FORMAT:
                raise ValueError(f"format is {payload.get('format')!r}")
            records = tuple(
                DatasetRecord(
                    name=d["name"],
                    group=d["group"],
                    metafeatures={k: float(v) for k, v in d["metafeatures"].items()},
                    configs=tuple((float(c["score"]), dict(c["config"])) for c in d["configs"]),
                )
                for d in payload["datasets"]
            )
            candidates = {c["origin"]: (str(c["group"]), dict(c["config"]))
                          for c in payload.get("candidates", [])}
            cross = {d: {o: float(v) for o, v in s.items()}
                     for d, s in payload.get("cross_scores", {}).items()}
            seconds = {d: {o: float(v) for o, v in s.items()}
                       for d, s in payload.get("cross_seconds", {}).items()}
        except (ValueError, KeyError, TypeError) as error:
            raise MetabaseError(
                f"{path} is not a metalab metabase export ({error}); expected the JSON written "
                "by `metalab automl export-metabase`"
            ) from error
        return cls(records, str(path), dict(payload.get("info", {})), candidates, cross, seconds)

    @classmethod
    def from_storage(cls, url: str) -> MetaBase:
        """Read every complete dataset study of an Optuna storage."""
        storage = open_storage(url, create=False)
        records = []
        candidates: dict[str, tuple[str, dict[str, Any]]] = {}
        cross: dict[str, dict[str, float]] = {}
        seconds: dict[str, dict[str, float]] = {}
        try:
            summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
        except Exception as error:  # any driver or SQL error means the base is unusable
            raise MetabaseError(f"cannot read the metabase at {url}: {error}") from error
        for summary in sorted(summaries, key=lambda s: s.study_name):
            attrs = summary.user_attrs
            if not summary.study_name.startswith(STUDY_PREFIX) or not attrs.get("complete"):
                continue
            study = optuna.load_study(study_name=summary.study_name, storage=storage)
            done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            done = sorted(done, key=lambda t: (-float(t.value), t.number))
            record = DatasetRecord(
                name=summary.study_name[len(STUDY_PREFIX):],
                group=str(attrs.get("group", summary.study_name)),
                metafeatures={k: float(v) for k, v in attrs["metafeatures"].items()},
                configs=tuple((float(t.value), dict(t.params)) for t in done),
            )
            records.append(record)
            if attrs.get("cross_candidate"):
                candidates[record.name] = (record.group, dict(attrs["cross_candidate"]))
            if attrs.get("cross_scores"):
                cross[record.name] = {o: float(v) for o, v in attrs["cross_scores"].items()}
            if attrs.get("cross_seconds"):
                seconds[record.name] = {o: float(v) for o, v in attrs["cross_seconds"].items()}
        return cls(tuple(records), url, {}, candidates, cross, seconds)


def storage_url(spec: str | os.PathLike[str]) -> str:
    """A database URL for ``spec``: unchanged if it is a URL, else an SQLite file path."""
    text = os.fspath(spec)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def open_storage(spec: str | os.PathLike[str], *, create: bool = True) -> optuna.storages.RDBStorage:
    """Open (and with ``create``, initialise) the Optuna storage at a path or URL.

    SQLite files get a 60 s lock timeout so that several worker processes can write to one.

    Raises:
        MetabaseError: the file does not exist (and ``create`` is false), or the database
            cannot be reached or is not an Optuna storage.
    """
    url = storage_url(spec)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 60}
        path = Path(url.split(":///", 1)[-1])
        if not create and not path.is_file():
            raise MetabaseError(
                f"no metabase at {path}; build one with `metalab automl build-metabase "
                f"--storage {path}`"
            )
        if create and not path.parent.is_dir():
            raise MetabaseError(f"cannot create a metabase in {path.parent}: no such folder")
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except Exception as error:  # sqlalchemy raises many kinds; all mean "unusable"
        raise MetabaseError(
            f"cannot open the metabase at {url} ({type(error).__name__}: {str(error)[:300]}); "
            "check the URL, the database driver and that the server is reachable"
        ) from error


def store_cross(base: MetaBase, spec: str | os.PathLike[str]) -> None:
    """Write ``base``'s cross-evaluation into the Optuna storage at ``spec`` (the one ``base``
    was read from), so that the storage itself warm-starts with a portfolio: each dataset
    study gets the user attributes ``cross_candidate`` (its configuration if it is a
    candidate, else None), ``cross_scores`` (candidate -> score on it, else None) and
    ``cross_seconds`` (candidate -> seconds on it, else None).

    Raises:
        MetabaseError: the storage cannot be opened, or lacks a study for one of ``base``'s
            datasets (write a ``.json`` export instead).
    """
    storage = open_storage(spec, create=False)
    names = {r.name for r in base.records} | set(base.candidates) | set(base.cross_scores)
    study_ids = {}
    for name in sorted(names):
        try:
            study_ids[name] = storage.get_study_id_from_name(STUDY_PREFIX + name)
        except KeyError:
            raise MetabaseError(
                f"the storage {storage_url(spec)} has no study for dataset {name!r}; write the "
                "cross-evaluation to the storage the base was built in, or to a .json export"
            ) from None
    for name, study_id in study_ids.items():
        candidate = base.candidates.get(name)
        storage.set_study_user_attr(study_id, "cross_candidate", dict(candidate[1]) if candidate else None)
        storage.set_study_user_attr(study_id, "cross_scores", base.cross_scores.get(name))
        storage.set_study_user_attr(study_id, "cross_seconds", base.cross_seconds.get(name))


def load_metabase(spec: str | os.PathLike[str] | MetaBase) -> MetaBase:
    """Read a base: ``"default"`` (the shipped one), a ``.json`` export, a path or a URL.

    Raises:
        MetabaseError: it cannot be found, reached or read.
    """
    if isinstance(spec, MetaBase):
        return spec
    text = os.fspath(spec)
    if text == "default":
        return MetaBase.from_json(DEFAULT_METABASE)
    if text.endswith(".json") and "://" not in text:
        return MetaBase.from_json(text)
    return MetaBase.from_storage(text)
