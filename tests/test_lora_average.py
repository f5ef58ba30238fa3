"""Averaging LoRA runs: the stacked rank-k*r LoRA is exactly the mean of the runs' weight deltas,
through the checkpoint and the exported adapter folder alike; runs that cannot be averaged fail in
one line before anything is written."""

import json
from dataclasses import asdict

import pytest
import torch
import yaml

from grpodx.doctor import DoctorConfig
from grpodx.lora_average import average_lora, lora_delta, main
from tests.conftest import ROOT


def test_the_stacked_lora_is_the_mean_of_the_deltas_and_averaging_a_and_b_is_not():
    first = {"m.lora_A.default.weight": torch.tensor([[1.0, 0.0]]), "m.lora_B.default.weight": torch.tensor([[2.0], [0.0]])}
    second = {"m.lora_A.default.weight": torch.tensor([[0.0, 1.0]]), "m.lora_B.default.weight": torch.tensor([[0.0], [4.0]])}
    # B1 A1 = [[2, 0], [0, 0]], B2 A2 = [[0, 0], [0, 4]]: the mean is diag(1, 2)
    averaged = average_lora([first, second])
    assert averaged["m.lora_A.default.weight"].shape == (2, 2) and averaged["m.lora_B.default.weight"].shape == (2, 2)
    assert torch.equal(lora_delta(averaged, "m.lora_A.default.weight"), torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    naive = ((first["m.lora_B.default.weight"] + second["m.lora_B.default.weight"]) / 2
             @ (first["m.lora_A.default.weight"] + second["m.lora_A.default.weight"]) / 2)
    assert torch.equal(naive, torch.tensor([[0.5, 0.5], [1.0, 1.0]]))  # why the tool stacks instead


def _run(root, name, tiny_model_dir, seed, rank=4):
    """A run folder as training leaves it: last.ckpt (random LoRA), its exported adapter, config.yaml."""
    from grpodx.doctor.restore import restore_doctor

    run = root / name / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    torch.manual_seed(seed)
    doctor = restore_doctor(tiny_model_dir, lora_rank=rank, lora_alpha=2 * rank)
    with torch.no_grad():
        for key, parameter in doctor.named_parameters():
            if "lora_" in key:
                parameter.copy_(torch.randn_like(parameter) * 0.3)
    lora = {f"policy.{k}": p.detach().clone() for k, p in doctor.named_parameters() if "lora_" in k}
    config = DoctorConfig(model=tiny_model_dir, lora_rank=rank, lora_alpha=2 * rank)
    torch.save({"state_dict": lora, "global_step": 10, "hyper_parameters": {"doctor": asdict(config), "max_turns": 2}},
               run / "checkpoints" / "last.ckpt")
    doctor.model.save_pretrained(run / "checkpoints" / "last-adapter")
    config = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text())  # as a run saves it, small
    config["model"]["doctor"].update(model=tiny_model_dir, lora_rank=rank, lora_alpha=2 * rank, max_new_tokens=6,
                                     dtype="float32", adapter=str(run / "checkpoints" / "last-adapter"))
    config["model"]["max_turns"] = 2
    config["data"].update(val_size=2, val_batch_size=2)
    (run / "config.yaml").write_text(yaml.safe_dump({**config, "ckpt_path": None}))
    return run / "checkpoints" / "last.ckpt", doctor


def _deltas(doctor) -> dict[str, torch.Tensor]:
    """Each adapted module's scaled delta, as PEFT applies it (so alpha/r is PEFT's, not ours)."""
    from peft.tuners.lora import LoraLayer

    return {name: module.get_delta_weight("default") for name, module in doctor.model.named_modules()
            if isinstance(module, LoraLayer)}


def test_an_averaged_run_restores_to_the_mean_delta_from_its_checkpoint_and_its_adapter(tiny_model_dir, tmp_path,
                                                                                     capsys):
    from grpodx.doctor.restore import read_checkpoint, restore_doctor

    runs = [_run(tmp_path, f"seed{seed}", tiny_model_dir, seed) for seed in (1, 2, 3)]
    out = tmp_path / "average"
    main(["--out", str(out), *(str(ckpt) for ckpt, _ in runs)])
    assert "grpodx.evaluate --ckpt_path" in capsys.readouterr().out

    saved = read_checkpoint(str(out / "checkpoints" / "last.ckpt"))
    assert (saved.doctor.lora_rank, saved.doctor.lora_alpha, saved.doctor.adapter) == (12, 24, None)
    from_ckpt = _deltas(restore_doctor(saved=saved))
    from_adapter = _deltas(restore_doctor(tiny_model_dir, adapter=str(out / "checkpoints" / "last-adapter")))
    singles = [_deltas(doctor) for _, doctor in runs]
    assert from_ckpt.keys() == singles[0].keys() and len(from_ckpt) > 0
    for name, delta in from_ckpt.items():
        mean = sum(single[name] for single in singles) / 3
        assert torch.allclose(delta, mean, atol=1e-6), name
        assert torch.allclose(from_adapter[name], mean, atol=1e-6), name
        assert not torch.allclose(delta, singles[0][name], atol=1e-3)

    config = yaml.safe_load((out / "config.yaml").read_text())
    doctor = config["model"]["doctor"]
    assert (doctor["lora_rank"], doctor["lora_alpha"], doctor["adapter"]) == (12, 24, None) and "ckpt_path" not in config
    assert torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["averaged_from"] == [str(c) for c, _ in runs]


@pytest.mark.parametrize("case", ["one run", "another rank", "out exists", "rslora"])
def test_runs_that_cannot_be_averaged_fail_in_one_line_before_writing(case, tiny_model_dir, tmp_path, capsys):
    first, _ = _run(tmp_path, "a", tiny_model_dir, 1)
    second, _ = _run(tmp_path, "b", tiny_model_dir, 2, rank=2 if case == "another rank" else 4)
    out = tmp_path / "average"
    if case == "out exists":
        out.mkdir()
    if case == "rslora":  # its scale is alpha/sqrt(r): stacking k runs would not keep it
        exported = first.parent / "last-adapter" / "adapter_config.json"
        exported.write_text(json.dumps(dict(json.loads(exported.read_text()), use_rslora=True)))
    argv = ["--out", str(out), str(first)] + ([] if case == "one run" else [str(second)])
    capsys.readouterr()  # the runs' loading output
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    error = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and error.startswith("error: ") and "\n" not in error, error
    assert {"one run": "checkpoints", "another rank": "lora_rank", "out exists": "--out", "rslora": "rsLoRA"}[case] in error
    assert not (out / "checkpoints").exists()


def test_the_averaged_run_folder_evaluates_with_its_own_config(tiny_model_dir, tmp_path):
    """What lora_average prints: `grpodx.evaluate --ckpt_path OUT/checkpoints/last.ckpt`, no --config
    (the config.yaml it wrote has the new rank, and no starting adapter of the old one)."""
    import json

    from grpodx.evaluate import main as evaluate

    runs = [_run(tmp_path, f"seed{seed}", tiny_model_dir, seed)[0] for seed in (1, 2)]
    main(["--out", str(tmp_path / "average"), *map(str, runs)])
    evaluate(["--ckpt_path", str(tmp_path / "average" / "checkpoints" / "last.ckpt"), "--out", str(tmp_path / "report")])
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["policies"]["trained"]["episodes"] == 2
