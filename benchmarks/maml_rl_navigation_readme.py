"""The README of a results folder written by benchmarks/maml_rl_navigation.py: the table, the
reading (computed from the numbers), speed and what differs from the paper, from its meta.json."""

from __future__ import annotations

from pathlib import Path

PAPER = {"MAML (Finn et al. 2017)": (-40.41, -11.68, -3.33, -3.23),
         "context vector (Finn et al. 2017)": (-42.42, -13.90, -5.17, -3.18)}


def reading(meta: dict) -> list[str]:
    """What the table says, from the numbers."""
    if meta.get("settings"):
        return settings_reading(meta)
    ours, paper = meta["returns"]["MAML-RL (metalab)"], PAPER["MAML (Finn et al. 2017)"]
    gaps = ", ".join(f"{100 * (o - p) / abs(p):+.0f}%" for o, p in zip(ours, paper))
    std = ", ".join(f"{v:.2f}" for v in meta.get("policy_std", []))
    return [
        f"Against the paper's MAML row after 0/1/2/3 steps (positive: a higher return): {gaps}. The initialisation and the",
        "first adaptation step behave as in the paper (one step moves the robot from near the origin to the",
        "goal's neighbourhood: see the paths), but further steps add nothing. The learned action noise is the",
        f"likely limit: its standard deviation is still {std} after training (initial 1.0), ten times the",
        "0.1 action clip, so the robot jitters around the goal by whole clipped steps and its return stays",
        "near -15 however good the mean action is; TRPO's KL budget goes to the mean. A smaller initial std",
        "is not the fix by itself: a 60-iteration probe with `--set init_std=0.1` (not kept) got worse with",
        "every inner step (-148 before, -239 after one step, 40 goals), since the policy-gradient step of 0.1",
        "grows as 1/std^2. results/rl/navigation2d_std compares the levers on the noise (a lower initial std with",
        "a scaled step for the mean, a separate log-std step) at equal, shorter training.",
        *baseline_reading(meta),
    ]


def settings_reading(meta: dict) -> list[str]:
    """The reading of a run with ``--set`` hyperparameters: its distance to the paper's row and
    to the baselines, computed from the numbers."""
    ours, paper = meta["returns"]["MAML-RL (metalab)"], PAPER["MAML (Finn et al. 2017)"]
    gaps = ", ".join(f"{100 * (o - p) / abs(p):+.0f}%" for o, p in zip(ours, paper))
    short = [s for s in range(4) if ours[s] < paper[s] - 0.1 * abs(paper[s])]
    lines = [f"Against the paper's MAML row after 0/1/2/3 steps (positive: a higher return): {gaps}; "
             + ("every figure is at most 10% below the paper's." if not short else
                f"more than 10% below the paper's after step(s) {', '.join(map(str, short))}."),
             f"Learned action std (normalised units): {', '.join(f'{v:.2f}' for v in meta.get('policy_std', []))}."]
    if "baselines" in meta:
        r, c = meta["returns"], meta["ci95"]
        pre = r["pretrained + PG (metalab)"]
        ahead = [s for s in (1, 2, 3) if ours[s] - pre[s] > c["MAML-RL (metalab)"][s] + c["pretrained + PG (metalab)"][s]]
        lines += ["", f"MAML-RL is ahead of the pretrained policy fine-tuned the same way by more than both CIs after "
                  f"step(s) {', '.join(map(str, ahead)) or 'none'} ({'/'.join(f'{v:.1f}' for v in ours[1:])} against "
                  f"{'/'.join(f'{v:.1f}' for v in pre[1:])} after 1/2/3 steps)."]
        oracle = r["oracle + PG (metalab)"]
        oracle_std = ", ".join(f"{v:.2f}" for v in meta["baselines"]["oracle + PG (metalab)"]["policy_std"])
        lines += ["", f"The oracle, which observes the goal, scores {oracle[0]:.2f} without adapting (its action std "
                  f"{oracle_std}: the bound on what adaptation can reach); policy-gradient steps then "
                  + ("lower its return" if oracle[1] < oracle[0] else "raise its return")
                  + f" ({'/'.join(f'{v:.1f}' for v in oracle[1:])}): a fixed step on a near-deterministic policy is "
                  "large, since the mean's policy gradient grows as 1/std."]
    return lines


def baseline_reading(meta: dict) -> list[str]:
    """What the baseline rows say, from the numbers."""
    if "baselines" not in meta or meta.get("settings"):
        return []
    r, c = meta["returns"], meta["ci95"]
    maml, pre, oracle = r["MAML-RL (metalab)"], r["pretrained + PG (metalab)"], r["oracle + PG (metalab)"]
    info = meta["baselines"]
    pre_std = ", ".join(f"{v:.2f}" for v in info["pretrained + PG (metalab)"]["policy_std"])
    oracle_last = info["oracle + PG (metalab)"]["last"]["returns"]
    ahead = [s for s in (1, 2, 3) if maml[s] - pre[s] > c["MAML-RL (metalab)"][s] + c["pretrained + PG (metalab)"][s]]
    return [
        "",
        f"Baselines. Before adaptation MAML-RL and the pretrained policy start alike ({maml[0]:.1f} and {pre[0]:.1f}).",
        f"After 1/2/3 steps MAML-RL is ahead of the pretrained policy by more than both CIs after step(s) {', '.join(map(str, ahead)) or 'none'}",
        f"({maml[1]:.1f}/{maml[2]:.1f}/{maml[3]:.1f} against {pre[1]:.1f}/{pre[2]:.1f}/{pre[3]:.1f}): one MAML step does what",
        "three fine-tuning steps of the pretrained policy do not, as in the paper's Fig. 5. Unlike MAML-RL, the",
        f"pretrained policy's TRPO steps shrink its action std (to {pre_std}), and its fine-tuning keeps improving",
        "step after step where MAML-RL's stalls at -15: more evidence that the noise MAML-RL keeps is its limit.",
        f"The oracle, which sees the goal, gets {oracle[0]:.1f} before any step; its last checkpoint gets",
        f"{oracle_last[0]:.1f} (std below 0.1), and there the fixed policy-gradient step of 0.1 ruins it",
        f"({oracle_last[1]:.1f} after one step): the step's effect grows as the std shrinks. Its best.pt row is the",
        "iteration whose return after 3 steps was best on validation, not its best unadapted policy.",
    ]


def baseline_notes(meta: dict) -> list[str]:
    """How the baseline rows were made (and what they say), for the README."""
    if "baselines" not in meta:
        return ["- Baselines: the random-initialisation row is computed here; the pretrained policy and the oracle are not."]
    lines = ["- Baselines (Finn et al. 2017, Fig. 5), on the same test goals with the same policy-gradient steps:",
             "  random initialisation (the untrained policy); a policy pretrained on all goals (`--set inner_steps=0`:",
             "  the same TRPO step on the unadapted policy's return across random goals); the oracle",
             "  (`--dataset navigation2d-oracle`: the goal is appended to the observation, trained the same way).",
             "  Each TRPO iteration of a baseline collects 20 trajectories per goal, half of MAML-RL's (which also",
             "  collects the inner step's). The MAML-RL row is the 250-iteration run above (evaluated on commit",
             f"  {meta['commit']}); the baselines were trained and evaluated on commit {meta.get('baselines_commit', '?')}:"]
    for name, info in meta["baselines"].items():
        std = ", ".join(f"{v:.2f}" for v in info["policy_std"])
        last = ", ".join(f"{v:.2f} ± {c:.2f}" for v, c in zip(info["last"]["returns"], info["last"]["ci95"]))
        lines += [f"  - {name}: `{info['command']}` ({info['meta_iterations']} iterations, "
                  f"{info['training_seconds'] / 60:.1f} min, final action std {std});",
                  f"    `{info['eval_command']}` scores best.pt, the best validation return after 3 steps",
                  f"    (iteration {info['best_step']}); the last checkpoint (`RUN/last.pt`) after 0-3 steps: {last}."]
    return lines


def write_readme(meta: dict, out: Path) -> None:
    """``out``/README.md (a results folder of benchmarks/maml_rl_navigation.py) from its meta.json."""
    returns, cis, timing = meta["returns"], meta["ci95"], meta["timing"]

    def row(name: str) -> str:
        values = returns[name]
        if name in cis:
            return f"| {name} | " + " | ".join(f"{v:.2f} ± {c:.2f}" for v, c in zip(values, cis[name])) + " |"
        return f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |"

    lines = [
        "# MAML-RL on 2D navigation (point robot)",
        "",
        "Finn et al. 2017, Sec. 5.3: goals uniform in [-0.5, 0.5]^2, start at the origin, actions clipped to",
        "[-0.1, 0.1], reward minus the L2 distance to the goal, horizon 100 (episodes end within 0.01 of the goal).",
        "Gaussian MLP policy 2 x 100 ReLU, one vanilla policy-gradient inner step of size 0.1 with the linear",
        "feature baseline, 20 trajectories per step, meta-batch 20 goals, TRPO outer step (max KL 0.01)"
        + (" (the step size and the policy as the settings below say)." if meta.get("settings") else "."),
        "",
        *([f"- Settings (every row): {', '.join(f'`{k}={v}`' for k, v in meta['settings'].items())}; see the "
             "README's MAML-RL section for what each does. Other seeds, 20 trajectories per test step and how "
             "`later_std_factor` was chosen (on validation goals): "
             "[../navigation2d_normalised](../navigation2d_normalised/README.md)."] if meta.get("settings") else []),
        f"- Training: `{meta['command']}`",
        f"- Evaluation: `{meta['eval_command']}`",
        f"- Commit {meta['commit']}, {meta['date']}, {meta['machine']['processor']} ({meta['machine']['cpus']} cores shared "
        f"with other jobs), torch {meta['machine']['torch']}, 1 thread.",
        f"- {meta['meta_iterations']} meta-iterations in {meta['training_seconds'] / 60:.1f} min "
        f"({meta['seconds_per_meta_iteration']:.2f} s each on average, validation included).",
        "",
        f"Mean return over {meta['test_tasks']} fixed test goals (seed {meta['seed']}) after 0-3 policy-gradient steps "
        f"of {meta.get('test_trajectories', 20)} trajectories each, "
        "± 95% CI (1.96 std / sqrt(goals)); the paper's rows are its Table 4 (not verified against the paper here).",
        "The paper draws its pretrained, random-initialisation and oracle baselines only as curves (Fig. 5, log",
        "scale) and gives no numbers for them, so those rows have no paper figure beside them.",
        "",
        "| method | 0 steps | 1 step | 2 steps | 3 steps |",
        "|---|---|---|---|---|",
        *[row(name) for name in returns],
        "",
        "![return against adaptation step](returns.png)",
        "",
        "![paths before and after adaptation](trajectories.png)",
        *(["", "The pretrained policy's paths before and after 1-3 steps (the paper's Fig. 4, right):", "",
            "![pretrained policy's paths](trajectories_pretrained.png)"] if "baselines" in meta else []),
        "",
        "## Reading",
        "",
        *reading(meta),
        "",
        "## Speed",
        "",
        f"- Simulator alone: {timing['simulator_steps_per_s']:,.0f} steps/s (400 robots stepped as one tensor).",
        f"- Simulator with the policy sampling actions: {timing['simulator_steps_per_s_with_policy']:,.0f} steps/s.",
        f"- One meta-iteration ({timing['simulator_steps_per_meta_iteration']:,.0f} simulator steps): "
        f"{timing['meta_iteration_s']:.2f} s, of which rollouts {100 * timing['rollout_share']:.0f}%; the rest is the",
        "  inner policy-gradient step, the meta-gradient through it, 10 conjugate-gradient Hessian-vector products",
        "  and the line search (each line-search trial reruns the inner step on the stored trajectories).",
        "- Timed on the same shared machine; the training pace varied with the other jobs' load.",
        "",
        "## What differs from the paper",
        "",
        "- The trust region's metric in the conjugate-gradient products is the adapted policies' Fisher with",
        "  d theta'/d theta taken as the identity (`curvature=adapted`, on every 4th time step); the gradient and",
        "  the line search's KL are exact through the inner step. `--set curvature=exact` uses the full Hessian",
        "  of the KL through the inner step (several times slower).",
        "- Advantages are standardised per task (as rllab's `center_adv`), discount 0.99 for the advantages;",
        "  returns are undiscounted.",
        "- Meta-training length: see above (a fixed number of meta-iterations that fits the 2-core budget).",
        *baseline_notes(meta),
        "",
        "Files: `meta.json` (everything above), `evaluation.json` (the `eval --json` rows), `metrics.jsonl` (training log).",
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n")
