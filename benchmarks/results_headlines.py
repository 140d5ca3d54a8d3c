"""The headline figures of ``results/``: which raw file each comes from and which function of
``benchmarks/results_index.py`` recomputes it (``function`` and ``args``), with what it says.

``results_index.py build`` computes their values and writes ``results/index.json``; a new
experiment's headline figures are added here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from results_headlines_automl import automl_entries

ROOT = Path(__file__).resolve().parents[1]

def _omniglot_entries() -> list[dict[str, Any]]:
    from metalab.evaluation.paper import paper_figure

    entries = []
    for file in sorted((ROOT / "results" / "omniglot").glob("*/eval_*.json")):
        result = json.loads(file.read_text(encoding="utf-8"))
        model, setting = file.parent.name, file.stem.removeprefix("eval_")
        test = result.get("split", "test") == "test"  # papers report test figures only
        paper = paper_figure(result["algorithm"], "omniglot", result["ways"], result["shots"]) if test else None
        entries.append({
            "id": f"omniglot/{model}/{setting}", "area": "omniglot", "experiment": f"omniglot/{model}",
            "what": f"{result['algorithm']} ({model} model), {result['ways']}-way {result['shots']}-shot "
                    f"{result.get('split', 'test')} accuracy (%), {result['episodes']} fixed episodes",
            "paper": {"value": paper[0], "source": paper[1]} if paper else None,
            "function": "eval_json", "args": {"file": str(file.relative_to(ROOT)), "metric": "accuracy"},
            "decimals": 2})
    return entries


def _sinusoid_entries() -> list[dict[str, Any]]:
    from metalab.evaluation.paper import paper_figure

    entries = []
    for algorithm in ("maml", "metasgd"):
        for shots in (5, 10, 20):
            file = f"results/sinusoid/maml_metasgd/{algorithm}_{shots}shot.json"
            paper = paper_figure(algorithm, "sinusoid", None, shots)
            entries.append({
                "id": f"sinusoid/{algorithm}/{shots}shot", "area": "sinusoid", "experiment": "sinusoid/maml_metasgd",
                "what": f"{algorithm} {shots}-shot sinusoid query MSE, 600 fixed test tasks",
                "paper": {"value": paper[0], "source": paper[1]} if paper else None,
                "function": "eval_json", "args": {"file": file, "metric": "mse"}, "decimals": 3})
            metrics = f"results/sinusoid/maml_metasgd/{algorithm}_{shots}shot_metrics.jsonl"
            for step in (0, 2000, 4000, 6000, 8000):
                entries.append({
                    "id": f"sinusoid/{algorithm}/{shots}shot/validation/{step}", "area": "sinusoid",
                    "experiment": "sinusoid/maml_metasgd",
                    "what": f"{algorithm} {shots}-shot validation query MSE at step {step}, 200 fixed tasks",
                    "function": "validation", "args": {"file": metrics, "step": step, "metric": "mse"},
                    "decimals": 2})
    return entries


def _other_entries() -> list[dict[str, Any]]:
    entries = []
    optimizers = ("learned (LSTM)", "Adam", "NAG", "RMSprop", "SGD")
    benchmarks = (  # experiment, what its figure is after "after N steps, ", decimals
        ("quadratics", "mean objective", "600 held-out 10-d quadratics", 3),
        ("digits", "mean training cross-entropy", "300 held-out 8x8-digits MLP problems "
         "(every optimizer on the same minibatches of 128)", 5),
        ("omniglot", "mean training cross-entropy", "300 held-out MLP problems of 10 unseen Omniglot "
         "characters at 28x28 (every optimizer on the same minibatches of 128)", 5),
    )
    for experiment, measure, problems, decimals in benchmarks:
        for optimizer in optimizers:
            for steps in (100, 200):
                entries.append({
                    "id": f"l2o/{experiment}/{optimizer.split(' ')[0].lower()}/{steps}", "area": "l2o",
                    "experiment": f"l2o/{experiment}",
                    "what": f"{optimizer}: {measure} after {steps} steps, {problems}",
                    "function": "l2o_final", "args": {"file": f"results/l2o/{experiment}/curves.json",
                                                      "optimizer": optimizer, "steps": steps},
                    "decimals": decimals})
    for folder, lstm in (("completed_run", "the completed 200-iteration meta-training"),
                         ("last_checkpoint", "iteration 125 of the stopped meta-training")):
        for optimizer in ("learned (LSTM)", "Adam"):
            for steps in (100, 200):
                entries.append({
                    "id": f"l2o/digits/{folder}/{optimizer.split(' ')[0].lower()}/{steps}", "area": "l2o",
                    "experiment": "l2o/digits",
                    "what": f"{optimizer}: mean training cross-entropy after {steps} steps, 300 held-out 8x8-digits "
                            f"MLP problems, same minibatches; the LSTM of {lstm}",
                    "function": "l2o_final", "args": {"file": f"results/l2o/digits/{folder}/curves.json",
                                                      "optimizer": optimizer, "steps": steps},
                    "decimals": 5})
    for variant, what in (("hidden40", "40 hidden units"), ("two_layers", "two hidden layers of 20"),
                          ("relu", "ReLU hidden units")):
        for optimizer in optimizers:
            entries.append({
                "id": f"l2o/digits_generalisation/{variant}/{optimizer.split(' ')[0].lower()}/100", "area": "l2o",
                "experiment": "l2o/digits_generalisation",
                "what": f"{optimizer}: mean training cross-entropy after 100 steps, 300 held-out 8x8-digits problems, "
                        f"an MLP with {what} (the LSTM was trained on 20 sigmoid units)",
                "function": "l2o_final", "args": {"file": f"results/l2o/digits_generalisation/{variant}/curves.json",
                                                  "optimizer": optimizer, "steps": 100},
                "decimals": 5})
    l2l = "results/speed/maml_meta_step/vs_learn2learn.json"
    for stat, what, decimals in (
            ("ratio", "learn2learn's seconds per second-order MAML meta-step over metalab's (median of the "
                      "alternating rounds' ratios)", 2),
            ("metalab", "metalab's seconds per MAML meta-step (median of the rounds)", 3),
            ("learn2learn", "learn2learn 0.2.0's seconds per MAML meta-step (median of the rounds)", 3)):
        entries.append({
            "id": f"speed/maml_meta_step/{stat}", "area": "speed", "experiment": "speed/maml_meta_step",
            "what": f"{what}; meta-batch 32 of 5-way 1-shot tasks, Conv-4, the same malloc settings",
            "function": "learn2learn_speedup", "args": {"file": l2l, "stat": stat}, "decimals": decimals})
    for ways, shape in ((5, "5-way 1-shot, 15 queries, meta-batch 32"), (20, "20-way 5-shot, 15 queries"),
                        (60, "60-way 5-shot, 5 queries")):
        entries.append({
            "id": f"speed/sampling/{ways}way", "area": "speed", "experiment": "speed/sampling",
            "what": f"episode sampling's share (%) of a ProtoNet training step, {shape} (medians of 20 steps)",
            "function": "sampling_share", "args": {"file": "results/speed/sampling/sampling.json", "ways": ways},
            "decimals": 2})
    for variant in ("metalab_maml", "metalab_fomaml"):
        entries.append({
            "id": f"speed/maml_task_families/{variant}", "area": "speed", "experiment": "speed/maml_task_families",
            "what": f"{variant} meta-step time after task families over before (median of 5 rounds)",
            "function": "speed_ratio", "args": {"file": "results/speed/maml_task_families/speed.json",
                                                "variant": variant},
            "decimals": 3})
    for key, name, how in (("rule_eager_s", "eager", "eager"), ("rule_compiled_s", "torch_compile", "under torch.compile")):
        entries.append({
            "id": f"speed/metalstm_rule/{name}", "area": "speed",
            "experiment": "speed/metalstm_rule",
            "what": f"5 steps of the LSTM meta-learner's rule over Conv-4's coordinates, {how}, in MAML task "
                    "steps (one 5-way 1-shot task, 15 queries; medians of 5 repeats, one thread)",
            "function": "rule_cost", "args": {"file": "results/speed/metalstm_rule/speed.json", "key": key},
            "decimals": 2})
    return entries


def _rl_return_entries(folder: str, runs: Iterable[tuple[str, str]], what: str) -> list[dict[str, Any]]:
    """Returns after 0-3 policy-gradient steps of each ``(key, label)`` run in results/rl/FOLDER's
    evaluation.json (``what``: a template with ``{label}`` and ``{steps}``)."""
    file = f"results/rl/{folder}/evaluation.json"
    return [{"id": f"rl/{folder}/{run}/after_{steps}", "area": "rl", "experiment": f"rl/{folder}",
             "what": what.format(label=label, steps=steps), "function": "rl_return",
             "args": {"file": file, "run": run, "steps": steps}, "decimals": 2}
            for run, label in runs for steps in range(4)]


def _rl_mann_compare_entries() -> list[dict[str, Any]]:
    entries = []
    baselines = (("maml-rl", "MAML-RL"), ("random-init", "random initialisation + policy gradient"),
                 ("pretrained", "policy pretrained on all goals + policy gradient"),
                 ("oracle", "oracle (observes the goal) + policy gradient"))
    entries += _rl_return_entries("navigation2d", baselines,
                                  "{label}: mean return on 2D navigation after {steps} policy-gradient steps, 100 fixed test goals")
    entries += _rl_return_entries("navigation2d_std", ((v, v) for v in ("paper", "low-std", "log-std-step")),
                                  "MAML-RL variant {label}, 50 meta-iterations: mean return on 2D navigation after {steps} "
                                  "policy-gradient steps, 40 fixed test goals")
    entries += _rl_return_entries("navigation2d_levers_250",
                                  ((v, v) for v in ("low-std", "std-0.1", "low-std-log-std-step", "two-inner-steps")),
                                  "MAML-RL variant {label}, 250 meta-iterations: mean return on 2D navigation after {steps} "
                                  "policy-gradient steps, 100 fixed test goals")
    normalised = json.loads((ROOT / "results/rl/navigation2d_normalised/evaluation.json").read_text(encoding="utf-8"))
    entries += _rl_return_entries("navigation2d_normalised", ((v, v) for v in normalised),
                                  "MAML-RL with normalised actions, variant {label}: mean return on 2D navigation after "
                                  "{steps} policy-gradient steps, 100 fixed test goals")
    entries += _rl_return_entries("navigation2d_recommended", baselines,
                                  "{label}, recommended settings (normalised actions, std 0.5, narrowing std): mean return on "
                                  "2D navigation after {steps} policy-gradient steps of 40 trajectories, 100 fixed test goals")
    cheetah = "results/rl/cheetah_dir/evaluation.json"
    for run in ("MAML-RL (metalab)", "pretrained + PG (metalab)"):
        for direction in ("all", "forward", "backward"):
            for steps in range(4):
                key = "maml-rl" if run.startswith("MAML") else "pretrained"
                entries.append({
                    "id": f"rl/cheetah_dir/{key}/{direction}/after_{steps}", "area": "rl", "experiment": "rl/cheetah_dir",
                    "what": f"{run}, 150 meta-iterations: mean return on half-cheetah direction ({direction} tasks) "
                            f"after {steps} policy-gradient steps, 40 fixed test tasks",
                    "function": "cheetah_return", "args": {"file": cheetah, "run": run, "direction": direction,
                                                           "steps": steps}, "decimals": 2})
    rl2_nav = "results/rl/rl2_navigation2d/evaluation.json"
    for episode in range(2):
        entries.append({
            "id": f"rl/rl2_navigation2d/episode_{episode + 1}", "area": "rl", "experiment": "rl/rl2_navigation2d",
            "what": f"RL^2: mean return of episode {episode + 1} of a 2-episode trial on 2D navigation, 100 fixed test goals",
            "function": "rl_return", "args": {"file": rl2_nav, "run": "rl2", "steps": episode}, "decimals": 2})
    runs = (  # (results file, id prefix, learner key in the file, label)
        ("results/omniglot/mann/results.json", "omniglot/mann/mann", "mann", "MANN"),
        ("results/omniglot/mann/results.json", "omniglot/mann/lstm", "lstm", "LSTM baseline"),
        ("results/omniglot/mann/read_before_write/results.json", "omniglot/mann/read_before_write", "mann",
         "MANN reading before its write (key strength from 10)"),
        ("results/omniglot/mann/two_cores/results.json", "omniglot/mann/two_cores", "mann",
         "MANN reading before its write (key strength from 10), both cores"),
        ("results/omniglot/mann/two_cores_seed1/results.json", "omniglot/mann/two_cores_seed1", "mann",
         "MANN reading before its write (key strength from 10), both cores, seed 1"),
        ("results/omniglot/mann/two_cores_train_val/results.json", "omniglot/mann/two_cores_train_val", "mann",
         "MANN reading before its write (key strength from 10), both cores, trained on all 1,200 characters"),
        ("results/omniglot/mann/two_cores_strength20/results.json", "omniglot/mann/two_cores_strength20", "mann",
         "MANN reading before its write (key strength from 20), both cores"),
    )
    for file, prefix, learner, label in runs:
        for instance in ("1st", "2nd", "3rd", "4th", "5th", "10th", "all"):
            what = "every step" if instance == "all" else f"the {instance} presentation of a class"
            entries.append({
                "id": f"{prefix}/{instance}", "area": "omniglot", "experiment": "omniglot/mann",
                "what": f"{label}: accuracy (%) on {what}, 5-class Omniglot sequences, 1000 fixed test sequences",
                "function": "mann_instance", "args": {"file": file, "learner": learner, "instance": instance},
                "decimals": 2})
        for setting in ("5-way 1-shot", "5-way 5-shot") if learner == "mann" else ():
            entries.append({
                "id": f"{prefix}/{setting.replace(' ', '_')}", "area": "omniglot", "experiment": "omniglot/mann",
                "what": f"{label}: {setting} test accuracy (%), 600 fixed standard episodes",
                "function": "mann_standard", "args": {"file": file, "setting": setting}, "decimals": 2})
    bandits = "results/rl/bandits/results.json"
    names = {"random": "random", "greedy": "greedy", "epsilon-greedy": "epsilon-greedy (0.1)", "ucb1": "UCB1",
             "thompson": "Thompson sampling", "gittins": "Gittins index", "rl2": "RL^2"}
    for setting, row in json.loads((ROOT / bandits).read_text(encoding="utf-8"))["rows"].items():
        arms, pulls = setting[1:].split("_n")
        for strategy in (s for s in names if s in row):
            entries.append({
                "id": f"rl/bandits/{setting}/{strategy}", "area": "rl", "experiment": "rl/bandits",
                "what": f"{names[strategy]}: mean total reward per trial, {arms}-armed Bernoulli bandits, "
                        f"{pulls} pulls, fixed test tasks",
                "function": "bandit_score", "args": {"file": bandits, "setting": setting, "strategy": strategy},
                "decimals": 2})
        if "rl2" in row:
            for other in ("thompson", "gittins"):
                entries.append({
                    "id": f"rl/bandits/{setting}/rl2_minus_{other}", "area": "rl", "experiment": "rl/bandits",
                    "what": f"RL^2 minus {names[other]}: mean paired difference in total reward per trial "
                            f"(same tasks), {arms} arms, {pulls} pulls",
                    "function": "bandit_score",
                    "args": {"file": bandits, "setting": setting, "strategy": "rl2", "minus": other},
                    "decimals": 2})
    entries += _paired_runs_entries(
        "omniglot/maml_plus_plus_pilot",
        {"/work/runs/mpp_base": ("base", "MAML"),
         "/work/runs/mpp_lslr_bnwb": ("lslr_bnwb", "MAML + learned per-step rates + per-step batch norm")},
        "after 800 meta-updates", ("base_minus_options", "MAML minus MAML with learned per-step rates and per-step "
                                   "batch norm at equal meta-updates"))
    ablation = "omniglot/maml_plus_plus_ablation"
    for file in sorted((ROOT / "results" / ablation).glob("compare_*.json")):
        fix = file.stem.removeprefix("compare_")
        entries += _paired_runs_entries(
            ablation, {f"runs/maml_plus_plus_ablation/{fix}": (fix, f"MAML with MAML++'s {fix} fix")},
            "after 400 meta-updates", (f"maml_minus_{fix}", f"MAML minus MAML with MAML++'s {fix} fix (negative: the "
                                       "fix helps)"), file=file.name)
    if (ROOT / "results" / ablation / "compare_msl.json").exists():
        entries += _paired_runs_entries(ablation, {"runs/maml_plus_plus_ablation/maml": (
            "maml", "plain MAML (two inner steps, constant meta learning rate)")}, "after 400 meta-updates", None,
            file="compare_msl.json")
    entries += _paired_runs_entries(
        "omniglot/metalstm_vs_maml_10min", {"runs/eq10/maml": ("maml", "MAML"),
                                            "runs/eq10/metalstm": ("metalstm", "LSTM meta-learner (metalstm)")},
        "after 10 min of training", ("maml_minus_metalstm", "MAML minus metalstm at equal training time"))
    entries += _paired_runs_entries(
        "omniglot/metalstm_vs_maml_10min",
        {"runs/eq10b/maml": ("maml_rerun", "MAML (second side-by-side run)"),
         "runs/eq10b/metalstm1": ("metalstm_one_step", "LSTM meta-learner trained with one inner step, meta-batch 8")},
        "after 10 min of training", ("maml_minus_metalstm_one_step", "MAML minus metalstm trained with one inner "
                                     "step at equal training time"), file="compare_one_inner_step.json")
    return entries


def _paired_runs_entries(experiment: str, runs: dict[str, tuple[str, str]], trained: str,
                         pair: tuple[str, str] | None, file: str = "compare.json") -> list[dict[str, Any]]:
    """Two runs of a ``metalab compare --json`` (5-way 1-shot, 600 episodes) in ``experiment``'s
    ``file``: each run's accuracy (``runs``: name in the file -> id, label) and their mean paired
    difference (``pair``: id, what; None: not listed)."""
    file = f"results/{experiment}/{file}"
    entries = [{"id": f"{experiment}/{key}", "area": "omniglot", "experiment": experiment,
                "what": f"{label} {trained}: 5-way 1-shot test accuracy (%), 600 fixed episodes",
                "function": "compare_json", "args": {"file": file, "run": run}, "decimals": 2}
               for run, (key, label) in runs.items()]
    if pair is not None:
        entries.append({"id": f"{experiment}/{pair[0]}", "area": "omniglot", "experiment": experiment,
                        "what": f"{pair[1]}: mean paired accuracy difference (points), the same 600 episodes",
                        "function": "compare_json", "args": {"file": file, "pair": 0}, "decimals": 2})
    return entries


def _within_alphabet_entries() -> list[dict[str, Any]]:
    """Within-alphabet 20-way 1-shot accuracy (Lake et al. 2015's task; humans 95.5%): each
    model on the held-out background alphabets (``_val``) and the evaluation alphabets (``_test``)."""
    entries = []
    folder = ROOT / "results" / "omniglot" / "within_alphabet"
    for file in sorted(folder.glob("*_val*.json")) + sorted(folder.glob("*_test*.json")):
        result = json.loads(file.read_text(encoding="utf-8"))
        part = "held-out background alphabets (validation)" if result["split"] == "val" else "evaluation alphabets (test)"
        test_time = result.get("test_time") or {}
        extra = ", ".join(f"{k} {v}" for k, v in (("test-time augmentation copies", test_time.get("tta")),
                                                   ("support fine-tuning steps", test_time.get("finetune_steps"))) if v)
        entries.append({
            "id": f"omniglot/within_alphabet/{file.stem}", "area": "omniglot", "experiment": "omniglot/within_alphabet",
            "what": f"{result['algorithm']} ({file.stem.split('_' + result['split'])[0]} model{', ' + extra if extra else ''}): "
                    f"within-alphabet 20-way 1-shot accuracy (%) on the {part}, {result['episodes']} fixed episodes "
                    "(humans 95.5, Lake et al. 2015)",
            "paper": None, "function": "eval_json", "args": {"file": str(file.relative_to(ROOT)), "metric": "accuracy"},
            "decimals": 2})
    return entries


def headline_entries() -> list[dict[str, Any]]:
    """Every headline figure, without its value (``results_index.build`` computes it)."""
    return (_omniglot_entries() + _sinusoid_entries() + automl_entries() + _other_entries()
            + _rl_mann_compare_entries() + _within_alphabet_entries())
