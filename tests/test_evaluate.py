"""The evaluation report: base and trained doctors on the same held-out cases, every file written,
the confusion table by organ system, and one-line errors for a checkpoint that does not fit."""

import csv
import json
from dataclasses import asdict

import pytest
import torch

from grpodx.doctor import DoctorConfig
from grpodx.episode import Episode
from grpodx.evaluate import main
from grpodx.report.confusion import NO_ANSWER, UNRECOGNISED, organ_system_confusion

CASES = 3
PNG = b"\x89PNG\r\n\x1a\n"


def _tiny_args(tiny_model_dir, lora_rank=4) -> list[str]:
    return ["--config", "configs/default.yaml", "--model.doctor.model", tiny_model_dir,
            "--model.doctor.dtype", "float32", "--model.doctor.max_new_tokens", "6",
            "--model.doctor.lora_rank", str(lora_rank), "--model.doctor.lora_alpha", "8", "--model.max_turns", "2",
            "--data.val_size", str(CASES), "--data.val_batch_size", "2"]


@pytest.fixture(scope="module")
def trained_run(tiny_model_dir, tmp_path_factory):
    """A run folder as training leaves it: a LoRA-only checkpoint (random B, so the trained doctor
    differs from the base) and TensorBoard curves."""
    from torch.utils.tensorboard import SummaryWriter

    from grpodx.doctor.restore import restore_doctor

    run = tmp_path_factory.mktemp("runs") / "default" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    config = DoctorConfig(model=tiny_model_dir, lora_rank=4, lora_alpha=8)
    torch.manual_seed(0)
    doctor = restore_doctor(tiny_model_dir, lora_rank=4, lora_alpha=8)
    lora = {f"policy.{k}": torch.randn_like(p) * 0.5 for k, p in doctor.named_parameters() if "lora_" in k}
    torch.save({"state_dict": lora, "global_step": 4,
                "hyper_parameters": {"doctor": asdict(config), "max_turns": 2}}, run / "checkpoints" / "last.ckpt")
    writer = SummaryWriter(str(run))
    for step in range(1, 5):
        writer.add_scalar("train/reward", 0.1 * step, step)
        writer.add_scalar("train/accuracy", 0.05 * step, step)
    for step in (2, 4):
        writer.add_scalar("val/reward", 0.1 * step, step)
        writer.add_scalar("val/accuracy", 0.1 * step, step)
    writer.close()
    return run


def test_report_compares_base_and_trained_on_the_same_cases(tiny_model_dir, trained_run, tmp_path):
    out = tmp_path / "report"
    main([*_tiny_args(tiny_model_dir), "--ckpt_path", str(trained_run / "checkpoints" / "last.ckpt"),
          "--out", str(out), "--compare-base", "--run-dir", str(trained_run)])
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["policies"]) == {"base", "trained"}
    for values in metrics["policies"].values():
        assert {"top1", "top3", "reward", "partial_credit", "turns", "questions", "format", "no_final",
                "multi_answer", "episodes", "failed"} <= values.keys()
        assert values["episodes"] == CASES
    assert metrics["context"]["global_step"] == 4

    records = [json.loads(line) for line in (out / "transcripts.jsonl").read_text().splitlines()]
    by_policy = {p: [r["case_id"] for r in records if r["policy"] == p] for p in ("base", "trained")}
    assert by_policy["base"] == by_policy["trained"] and len(by_policy["base"]) == CASES
    texts = {p: [r["turns"][1]["text"] for r in records if r["policy"] == p] for p in ("base", "trained")}
    assert texts["base"] != texts["trained"]  # the adapter really was off for the base

    for name in ("base", "trained"):
        rows = list(csv.reader((out / f"confusion-{name}.csv").open()))
        assert rows[0][0] == "hidden_organ_system" and rows[0][-2:] == [UNRECOGNISED, NO_ANSWER]
        assert sum(int(cell) for row in rows[1:] for cell in row[1:]) == CASES
        assert (out / f"confusion-{name}.md").read_text().startswith("| hidden")
    for png in ("training_curves.png", "accuracy_by_condition.png", "turns.png"):
        data = (out / png).read_bytes()
        assert data.startswith(PNG) and len(data) > 1000, png
    summary = (out / "summary.md").read_text()
    assert "| questions asked |" in summary and "| several or negated answers |" in summary
    for linked in ("metrics.json", "transcripts.jsonl", "training_curves.png", "accuracy_by_condition.png",
                   "turns.png", "confusion-base.csv", "confusion-trained.csv"):
        assert f"({linked})" in summary


def test_a_checkpoint_that_does_not_fit_the_config_is_one_line(tiny_model_dir, trained_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*_tiny_args(tiny_model_dir, lora_rank=8), "--ckpt_path", str(trained_run / "checkpoints" / "last.ckpt"),
              "--out", str(tmp_path / "report")])
    assert exit_.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--ckpt_path" in errors[0] and "does not fit" in errors[0]
    assert not (tmp_path / "report").exists()


def test_confusion_rows_count_every_case_by_answered_organ_system(kb):
    from grpodx.cases.sources import KnowledgeBaseCases

    cases = KnowledgeBaseCases(kb).held_out(len(kb.conditions), seed=1)
    case = cases[0]
    elsewhere = next(c for c in kb.conditions if c.organ_system != case.organ_system)
    answers = [case.hidden_diagnosis, f"probably {elsewhere.name}", "a banana allergy", None]
    episodes = [Episode(case, group=i, final_diagnosis=a) for i, a in enumerate(answers)]
    table = organ_system_confusion(episodes, kb)
    assert table.rows == [case.organ_system]
    assert table.count(case.organ_system, case.organ_system) == 1
    assert table.count(case.organ_system, elsewhere.organ_system) == 1
    assert table.count(case.organ_system, UNRECOGNISED) == 1 and table.count(case.organ_system, NO_ANSWER) == 1
    assert table.row_total(case.organ_system) == len(episodes)
    assert table.columns[0] == case.organ_system and table.columns[-2:] == [UNRECOGNISED, NO_ANSWER]


def test_an_answer_naming_several_conditions_maps_to_no_organ_system(kb):
    from grpodx.report.confusion import answered_organ_system

    assert answered_organ_system("Migraine", kb) == "neurological"
    assert answered_organ_system("Vitamin B12 deficiency anaemia", kb) == "hematological"
    for several in ("Migraine, Community-acquired pneumonia", "not Migraine", "Gout or Cellulitis"):
        assert answered_organ_system(several, kb) == UNRECOGNISED, several
