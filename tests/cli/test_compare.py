"""``metalab compare``: runs evaluated on the same fixed tasks and tested paired, on real Omniglot."""

import json

import pytest

from metalab.cli import main


def _train(out, data_dir, *extra):
    code = main(["train", "--algorithm", "protonet", "--dataset", "omniglot", "--split", "vinyals",
                 "--data", str(data_dir), "--ways", "5", "--shots", "1", "--queries", "5", "--meta-batch", "4",
                 "--val-every", "1000", "--val-episodes", "5", "--seed", "0", "--out", str(out), "--no-progress",
                 *extra])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("compare")
    trained = _train(root / "trained", data_dir, "--steps", "60")
    # one meta-update at a negligible learning rate: the randomly initialised encoder
    untrained = _train(root / "untrained", data_dir, "--steps", "1", "--lr", "1e-12")
    return str(trained), str(untrained)


def _compare(capsys, *args):
    capsys.readouterr()
    code = main(["compare", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_run_compared_with_itself_differs_by_exactly_zero(runs, data_dir, capsys):
    trained, _ = runs
    code, out, _ = _compare(capsys, trained, trained, "--ways", "5", "--shots", "1", "--episodes", "12",
                            "--data", str(data_dir), "--json")
    assert code == 0
    result = json.loads(out)
    assert out.strip().count("\n") == 0
    assert [r["run"] for r in result["runs"]] == [trained, f"{trained}#2"]
    assert result["runs"][0]["accuracy"] == result["runs"][1]["accuracy"]
    (pair,) = result["pairs"]
    assert pair["difference"] == 0 and pair["ci95"] == 0
    assert pair["a_better"] == 0 and pair["b_better"] == 0
    assert pair["wilcoxon"]["p"] == 1 and pair["ttest"]["p"] == 1


def test_trained_vs_untrained_is_a_significant_paired_difference(runs, data_dir, capsys):
    trained, untrained = runs
    code, out, _ = _compare(capsys, trained, untrained, "--ways", "5", "--shots", "1", "--episodes", "30",
                            "--data", str(data_dir), "--json")
    assert code == 0
    result = json.loads(out)
    keys = {"dataset", "split", "ways", "shots", "queries", "metric", "episodes", "seed", "runs", "pairs"}
    assert keys <= set(result)
    assert result["metric"] == "accuracy" and result["episodes"] == 30 and result["ways"] == 5
    a, b = result["runs"]
    (pair,) = result["pairs"]
    assert pair["a"] == trained and pair["b"] == untrained and pair["tasks"] == 30
    # the paired mean difference is the difference of the two means (same tasks)
    assert pair["difference"] == pytest.approx(a["accuracy"] - b["accuracy"], abs=1e-3)
    assert pair["difference"] - pair["ci95"] > 0  # the CI excludes 0
    assert pair["wilcoxon"]["p"] < 0.01 and pair["ttest"]["p"] < 0.01
    assert pair["a_better"] > pair["b_better"]


def test_text_output_lists_runs_and_each_pair_with_both_tests(runs, data_dir, capsys):
    trained, untrained = runs
    code, out, _ = _compare(capsys, trained, untrained, trained, "--ways", "5", "--shots", "1", "--episodes", "6",
                            "--data", str(data_dir))
    assert code == 0
    assert "5-way 1-shot" in out and "6 fixed tasks (seed 0)" in out
    pair_lines = [line for line in out.splitlines() if "Wilcoxon p =" in line]
    assert len(pair_lines) == 3  # every pair of three runs
    assert all("paired t p =" in line and "95% CI" in line for line in pair_lines)


def test_runs_of_different_task_families_are_refused(runs, data_dir, tmp_path, capsys):
    trained, _ = runs
    sinusoid = tmp_path / "sinusoid"
    assert main(["train", "--algorithm", "maml", "--dataset", "sinusoid", "--steps", "1", "--meta-batch", "2",
                 "--val-every", "1000", "--val-episodes", "2", "--out", str(sinusoid), "--no-progress"]) == 0
    code, _, err = _compare(capsys, trained, str(sinusoid), "--shots", "5", "--episodes", "4",
                            "--data", str(data_dir))
    assert code == 2
    assert "different task families" in err and "'omniglot'" in err and "'sinusoid'" in err
    assert "Traceback" not in err


def test_a_single_run_is_refused_with_the_usage(runs, capsys):
    code, _, err = _compare(capsys, runs[0], "--shots", "1")
    assert code == 2 and "at least two runs" in err


def test_evaluate_keeps_each_tasks_score_in_order_outside_the_json(runs, data_dir):
    from metalab.cli.evaluate import load_run
    from metalab.evaluation.evaluate import evaluate

    learner, tasks, _ = load_run(runs[0], "test", str(data_dir), "cpu")
    result = evaluate(learner, tasks, ways=5, shots=1, episodes=6, seed=3)
    first_three = evaluate(learner, tasks, ways=5, shots=1, episodes=3, seed=3)
    assert len(result.scores) == 6 and result.scores[:3] == first_three.scores
    assert sum(result.scores) / 6 == pytest.approx(result.mean)
    assert all(0 <= s <= 100 for s in result.scores)
    assert "scores" not in result.to_json()


def test_runs_trained_with_different_ways_need_ways_given(runs, data_dir, tmp_path, capsys):
    ten_way = _train(tmp_path / "ten", data_dir, "--steps", "1", "--ways", "10")
    code, _, err = _compare(capsys, runs[0], str(ten_way), "--shots", "1", "--episodes", "4", "--data", str(data_dir))
    assert code == 2 and "different ways" in err and "give --ways" in err
    code, out, _ = _compare(capsys, runs[0], str(ten_way), "--ways", "10", "--shots", "1", "--episodes", "4",
                            "--data", str(data_dir), "--json")
    assert code == 0 and json.loads(out)["ways"] == 10
