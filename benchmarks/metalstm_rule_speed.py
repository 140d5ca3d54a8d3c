"""Where a metalstm meta-step's time goes, and what fusing the rule's elementwise work would save.

Usage: OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/metalstm_rule_speed.py [--steps 5] [--repeats 5] \
    [--compile] [--out results/speed/metalstm_rule]

Times, on one thread, ``--steps`` applications of the LSTM meta-learner's update rule
(``metalab.optim.MetaLSTMNet``) to as many coordinates as Conv-4 on 28x28 Omniglot has, forward
and backward (the meta-gradient reaches the rule's weights through every step, the learner's
gradients held constant as in the paper), against one MAML meta-step of one 5-way 1-shot task
(15 queries) of the same Conv-4, measured in the same process. ``--compile`` also times the
rule under ``torch.compile`` (inductor's C++ kernels fuse the elementwise operations; it needs
a C++ compiler), the lever this measures; and one thread's GFLOP/s on the rule's gate matrix
against a square matmul (what a kernel that never writes the gates out could approach). Prints and (with ``--out``) writes ``speed.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from metalab.models.conv4 import Conv4
from metalab.optim import MetaLSTMNet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402


def rule_seconds(net: MetaLSTMNet, coordinates: int, steps: int, repeats: int, forward=None) -> float:
    """Median seconds of ``steps`` rule applications to ``coordinates`` and the backward pass."""
    forward = net if forward is None else forward
    generator = torch.Generator().manual_seed(0)
    theta0 = torch.randn(coordinates, generator=generator) * 0.05
    grads = [torch.randn(coordinates, generator=generator) * 0.01 for _ in range(steps)]
    times = []
    for repeat in range(repeats + 1):  # the first is warm-up (and compilation)
        start = time.perf_counter()
        theta = theta0
        state = net.initial_state(coordinates, theta)
        for grad in grads:
            update, state = forward(grad, torch.tensor(1.0), theta, state)
            theta = theta + update
        theta.square().sum().backward()
        if repeat:
            times.append(time.perf_counter() - start)
        net.zero_grad(set_to_none=True)
    return statistics.median(times)


def maml_step_seconds(repeats: int) -> tuple[float, int]:
    """Median seconds of one second-order MAML meta-step (1 inner step) of one 5-way 1-shot
    task with 15 queries per class on Conv-4, and the model's coordinate count."""
    model = torch.nn.Sequential(Conv4(running_stats=False), torch.nn.Linear(64, 5))  # MAML's Omniglot model
    params = dict(model.named_parameters())
    support, query = torch.rand(5, 1, 28, 28), torch.rand(75, 1, 28, 28)
    support_y, query_y = torch.arange(5), torch.arange(5).repeat_interleave(15)
    times = []
    for repeat in range(repeats + 1):
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(torch.func.functional_call(model, params, (support,)), support_y)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        adapted = {k: p - 0.4 * g for (k, p), g in zip(params.items(), grads)}
        outer = torch.nn.functional.cross_entropy(torch.func.functional_call(model, adapted, (query,)), query_y)
        outer.backward()
        if repeat:
            times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    return statistics.median(times), sum(p.numel() for p in params.values())


def matmul_gflops(coordinates: int, hidden: int, repeats: int) -> dict[str, float]:
    """GFLOP/s of one thread on the rule's gate matrix (``[coordinates, 4 + hidden]`` times
    ``[4 + hidden, 4 * hidden]``: thin, so bound by writing its output) and on a square 1024 matmul
    (the arithmetic peak PyTorch reaches here)."""
    def rate(run, flop: float) -> float:
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return round(flop / statistics.median(times) / 1e9, 1)

    x, w = torch.randn(coordinates, 4 + hidden), torch.randn(4 * hidden, 4 + hidden)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    return {"gate_matmul_gflops": rate(lambda: x @ w.T, 2.0 * coordinates * (4 + hidden) * 4 * hidden),
            "square_matmul_gflops": rate(lambda: a @ b, 2.0 * 1024 ** 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="rule applications (inner steps)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time the rule under torch.compile")
    parser.add_argument("--out", help="folder for speed.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    maml, coordinates = maml_step_seconds(args.repeats)
    net = MetaLSTMNet(initial_rate=0.4)
    result = {"coordinates": coordinates, "inner_steps": args.steps, "maml_task_step_s": round(maml, 4),
              "rule_eager_s": round(rule_seconds(net, coordinates, args.steps, args.repeats), 4)}
    if args.compile:
        result["rule_compiled_s"] = round(rule_seconds(net, coordinates, args.steps, args.repeats,
                                                       forward=torch.compile(net)), 4)
        result["compiled_speedup"] = round(result["rule_eager_s"] / result["rule_compiled_s"], 2)
    result["rule_eager_over_maml_task_step"] = round(result["rule_eager_s"] / maml, 2)
    result.update(matmul_gflops(coordinates, net.hidden, 10))
    result.update(machine=f"{cpu_model()}, {platform.machine()}, 1 thread", torch=torch.__version__,
                  date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "speed.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
