"""bench.learning's plan overrides are checked before anything runs."""

import pytest

from bench.learning import main


@pytest.mark.parametrize("flag", ["--demonstrations", "--warm-steps", "--grpo-steps"])
def test_a_count_below_one_is_refused_before_anything_runs(flag, tmp_path):
    with pytest.raises(SystemExit, match=f"{flag}: 0; give a positive count"):
        main([flag, "0", "--out", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()


def test_the_development_comparison_needs_a_baseline():
    from bench.warm_start_ab import main as compare

    with pytest.raises(SystemExit, match="at least two"):
        compare(["only-one.ckpt"])


def _events(run, values):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(run))
    for step, value in enumerate(values, 1):
        writer.add_scalar("train/reward", value, step)
    writer.close()


def test_the_trend_of_several_runs_is_their_mean_at_each_step_read_back_from_tensorboard(tmp_path):
    from bench.learning import reward_trend

    _events(tmp_path / "a", [0.1, 0.2, 0.3, 0.4])
    _events(tmp_path / "b", [0.3, 0.4, 0.5, 0.6])
    _events(tmp_path / "c", [0.5, 0.5, 0.5])  # a shorter run: only the steps every run logged count
    both = reward_trend([[tmp_path / "a"], [tmp_path / "b"]])
    assert both["runs"] == 2 and both["values"] == [0.2, 0.3, 0.4, 0.5]
    assert both["slope_per_step"][1] == pytest.approx(0.1)
    assert reward_trend([[tmp_path / "a"], [tmp_path / "c"]])["values"] == [0.3, 0.35, 0.4]
    assert reward_trend([[tmp_path / "a"]])["slope_per_step"] is not None
    assert reward_trend([[tmp_path / "c"], [tmp_path / "a"]])["first_half_mean"] == pytest.approx(0.3)


def test_an_average_of_runs_is_scored_at_its_own_rank_and_its_curves_are_its_runs(tiny_model_dir, kb, tmp_path):
    """bench.learning builds the doctor from the warm start's config: an average (grpodx.lora_average)
    has k times the rank, so the shape must come from the checkpoint being scored."""
    from bench.learning import grpo_runs, held_out_episodes
    from grpodx.cases.sources import KnowledgeBaseCases
    from grpodx.lora_average import main as average
    from tests.test_lora_average import _run

    runs = [_run(tmp_path, f"seed{seed}", tiny_model_dir, seed)[0] for seed in (1, 2)]
    average(["--out", str(tmp_path / "average"), *map(str, runs)])
    averaged = tmp_path / "average" / "checkpoints" / "last.ckpt"
    assert grpo_runs(averaged) == [[run.parent.parent] for run in runs]
    assert grpo_runs(runs[0]) == [[runs[0].parent.parent]]
    episodes = held_out_episodes(averaged, {"kb": KnowledgeBaseCases(kb).held_out(2, 0)}, runs[0], False)
    assert len(episodes["kb"]) == 2


def _parsed(command, tiny_model_dir, model_prefix):
    """A bench.learning training command as train.py would read it (its Python, adapter and case
    source swapped for the tiny model and the embedded knowledge base; nothing trains)."""
    from grpodx.cli import GRPODxCLI

    kept = [a for a in command[3:] if not a.startswith(("--model.doctor.adapter=", "--data.cases=",
                                                         "--data.init_args.cases="))]
    return GRPODxCLI(run=False, parser_kwargs={"exit_on_error": False},
                     args=[*kept, f"--{model_prefix}doctor.model", tiny_model_dir, "--trainer.logger=false",
                           "--transcripts.console=false"]).config


def test_the_averaged_plan_runs_the_four_seed_recipe_as_train_py_reads_it(tiny_model_dir, one_demonstration, tmp_path):
    """--plan averaged must run the commands of BENCHMARKS.md's four-seed recipe: a flag misspelt
    or left out would make the one command reproduce something else."""
    from bench.learning import PLANS, grpo_commands, warm_start_command

    plan, runs = PLANS["averaged"], tmp_path / "runs"
    commands = grpo_commands("python", tmp_path / "ws" / "last.ckpt", "kb", plan, runs)
    assert list(commands) == ["grpo-seed1234", "grpo-seed4321", "grpo-seed2025", "grpo-seed5678"]
    for (name, command), seed in zip(commands.items(), (1234, 4321, 2025, 5678)):
        assert f"--model.doctor.adapter={tmp_path / 'ws' / 'last-adapter'}" in command
        config = _parsed(command, tiny_model_dir, "model.")
        assert config["seed_everything"] == seed and config["data"]["init_args"]["seed"] == 77
        assert config["data"]["init_args"]["batch_size"] == 8 and config["trainer"]["max_steps"] == 10
        model = config["model"]["init_args"]
        assert model["grpo"]["beta"] == 0.1 and model["grpo"]["learning_rate"] == 3e-4
        assert model["doctor"]["dtype"] == "float32" and model["group_size"] == 4
    warm = _parsed(warm_start_command("python", one_demonstration, "kb", plan, runs), tiny_model_dir, "model.init_args.")
    assert warm["data"]["init_args"]["seed"] == 77 and warm["trainer"]["max_steps"] == 400


def test_the_full_plan_runs_grpo_once_on_the_configs_seeds(tmp_path):
    from bench.learning import PLANS, grpo_commands

    commands = grpo_commands("python", tmp_path / "last.ckpt", "kb", PLANS["full"], tmp_path)
    assert list(commands) == ["grpo"]
    assert not [a for a in commands["grpo"] if a.startswith(("--seed_everything", "--data.seed", "--model.grpo.beta"))]


def test_quick_and_another_plan_together_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="--quick with --plan averaged"):
        main(["--quick", "--plan", "averaged", "--out", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()


def test_the_curves_say_whether_grpo_validated_on_the_held_out_patients(tmp_path):
    """The PNG draws the warm start on GRPO's own val/* patients only when they are the held-out ones."""
    from bench.learning import SEED, validates_on_held_out

    for name, seed in (("held", SEED), ("development", 77)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text(f"data:\n  class_path: grpodx.data.CaseDataModule\n"
                                                     f"  init_args:\n    seed: {seed}\n")
    (tmp_path / "unknown").mkdir()
    assert validates_on_held_out([[tmp_path / "held"]])
    assert not validates_on_held_out([[tmp_path / "held"], [tmp_path / "development"]])
    assert not validates_on_held_out([[tmp_path / "unknown"]])


def test_the_newest_run_is_the_highest_version_number_not_the_last_name(tmp_path):
    """version_10 sorts before version_9 by name; the newest checkpoint and the next average are by N."""
    from bench.learning import newest_checkpoint, versions

    for n in (0, 9, 10, 2):
        (tmp_path / "grpo" / f"version_{n}").mkdir(parents=True)
    assert [p.name for p in versions(tmp_path / "grpo")] == ["version_0", "version_2", "version_9", "version_10"]
    assert newest_checkpoint(tmp_path, "grpo") == tmp_path / "grpo" / "version_10" / "checkpoints" / "last.ckpt"
    assert versions(tmp_path / "none") == []
