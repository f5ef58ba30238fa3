"""Warm start on a tiny random model: exact-context rows, doctor tokens only, the loss goes down, and
GRPO continues from the saved adapter (bad adapters fail with one line, before weights load)."""

import json
import random
import subprocess
import sys

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from safetensors.torch import load_file

from callbacks import AdapterCheckpoint, RewardMetrics, TranscriptLogger, ValidateAtEnd
from callbacks.adapter_checkpoint import last_checkpoint
from grpodx.cases.sources import case_source
from grpodx.demonstration_data import DemonstrationDataModule
from grpodx.demonstrations import Demonstration, DemonstrationTurn, BayesPlayer, bayes_doctor, token_budget
from grpodx.doctor import Doctor, DoctorConfig
from grpodx.doctor.loading import load_doctor_model
from grpodx.doctor.prompting import conversation_messages
from grpodx.errors import ConfigError
from grpodx.judges import OfflineJudge
from grpodx.module import DiagnosisGRPO
from grpodx.patients import OfflinePatient
from grpodx.prefix_sharing import chain_length, chains, collate_chains, pack_chains
from grpodx.sequences import collate, pack
from grpodx.warm_start import WarmStart, WarmStartConfig, demonstration_rows, learning_rate_factor
from tests.conftest import ROOT

TINY_LORA = {"lora_rank": 4, "lora_alpha": 8}


@pytest.fixture(scope="module")
def kb_demonstrations(tmp_path_factory, tiny_model_dir):
    """Eight naive-bayes-doctor episodes on `kb` training cases, written as the command writes them."""
    source, doctor, bank = bayes_doctor("kb")
    player = BayesPlayer(doctor, bank, OfflinePatient(), OfflineJudge(), fits=token_budget(tiny_model_dir, 64))
    demonstrations = player.play([source.train_case(i, 0) for i in range(8)], "kb", random.Random(0))
    path = tmp_path_factory.mktemp("demos") / "kb.jsonl"
    path.write_text("".join(d.to_json() + "\n" for d in demonstrations))
    return str(path), demonstrations


def test_rows_are_the_doctor_turns_in_the_exact_prompt_it_sees(tiny_doctor):
    case = case_source("kb").train_case(0, 0)
    turns = (DemonstrationTurn("<reason>SECRET-ONE thinks</reason>\nAny fever?", False, ("fever",), "Yes, a fever."),
             DemonstrationTurn("<reason>SECRET-TWO</reason>\nAny cough?", False, ("cough",), "No."),
             DemonstrationTurn("<reason>done</reason>\nDifferential: A, B\nFinal diagnosis: A", True))
    demonstration = Demonstration(case.case_id, "kb", case.hidden_diagnosis, case.opening_statement, turns, "A",
                                  False, 0.1)
    rows = demonstration_rows([demonstration], tiny_doctor)
    tokenizer = tiny_doctor.tokenizer
    history = [("Any fever?", "Yes, a fever."), ("Any cough?", "No.")]
    for t, (row, turn) in enumerate(zip(rows, turns)):
        # the environment's prompt: conversation_messages over the visible history, last-turn note on the last
        expected = tiny_doctor.prompt_ids(conversation_messages(case.opening_statement, history[:t], turn.last_turn))
        assert row.ids[:row.completion_start] == expected
        prompt_text = tokenizer.decode(expected)
        assert "SECRET" not in prompt_text  # earlier <reason> blocks never re-enter the context
        completion = row.ids[row.completion_start:]
        assert completion == tokenizer(turn.text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    batch = collate(rows, tokenizer.pad_token_id)
    # scored targets are the doctor's completion tokens only, each predicted from the position before
    assert batch.targets.tolist() == [i for r in rows for i in r.ids[r.completion_start:]]
    assert all(p >= r.completion_start - 1 for r, p in zip([rows[int(b)] for b in batch.rows], batch.positions))


def test_shared_prefixes_give_the_per_row_log_probs_on_fewer_tokens(tiny_model_dir, kb_demonstrations):
    _, demonstrations = kb_demonstrations
    module = WarmStart(doctor=DoctorConfig(model=tiny_model_dir, **TINY_LORA))
    module.configure_model()
    with torch.no_grad():
        for _, param in module.policy.model.named_parameters():
            param.add_(torch.randn_like(param) * 0.02)  # a non-trivial LoRA, so the adapter path counts too
    rows = demonstration_rows(demonstrations, module.policy)
    linked = chains(rows)
    assert len(linked) == len(demonstrations) and all(len(c) == 5 for c in linked)  # every prompt extends the last
    assert sum(chain_length(c) for c in linked) < 0.6 * sum(len(r.ids) for r in rows)
    pad = module.policy.tokenizer.pad_token_id
    with torch.no_grad():
        per_row = {}
        for group in pack(rows, 1024):
            mb = collate(group, pad)
            for episode, target, value in zip(mb.episode_ids.tolist(), mb.targets.tolist(),
                                              module.token_log_probs(mb, 256).tolist()):
                per_row.setdefault(episode, []).append((target, value))
        shared = {}
        for group in pack_chains(linked, 2048):
            batch = collate_chains(group, pad)
            for episode, target, value in zip(batch.episode_ids.tolist(), batch.targets.tolist(),
                                              module.packed_log_probs(batch, 256).tolist()):
                shared.setdefault(episode, []).append((target, value))
    assert per_row.keys() == shared.keys()
    for episode in per_row:
        assert [t for t, _ in per_row[episode]] == [t for t, _ in shared[episode]]
        assert torch.allclose(torch.tensor([v for _, v in per_row[episode]]),
                              torch.tensor([v for _, v in shared[episode]]), atol=1e-4)


class BatchRecorder(L.Callback):
    def __init__(self):
        self.batches = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.batches.append([d.case_id for d in batch.demonstrations])


def _fit(tiny_model_dir, demonstrations_path, root, max_steps, ckpt_path=None, **overrides):
    recorder = BatchRecorder()
    module = WarmStart(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=8, **TINY_LORA),
                       patient=OfflinePatient(), judge=OfflineJudge(), max_turns=overrides.pop("max_turns", 5),
                       optimizer=WarmStartConfig(learning_rate=3e-2, warmup_steps=0, micro_batch_tokens=1024,
                                                 min_lr_ratio=overrides.pop("min_lr_ratio", 0.1)))
    data = DemonstrationDataModule(demonstrations_path, cases="kb", batch_size=4, val_size=2, val_batch_size=2, seed=7)
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=max_steps, logger=TensorBoardLogger(root, name="w"),
                        callbacks=[AdapterCheckpoint(every_n_train_steps=max_steps), RewardMetrics(),
                                   TranscriptLogger(console=False), ValidateAtEnd(), recorder],
                        val_check_interval=1000, check_val_every_n_epoch=None, num_sanity_val_steps=0,
                        enable_progress_bar=False, enable_model_summary=False)
    L.seed_everything(0)
    if ckpt_path == "last":  # what train.py does for --ckpt_path last: any version folder of the run name
        ckpt_path = last_checkpoint(trainer)
    trainer.fit(module, data, ckpt_path=ckpt_path)
    module.recorder = recorder
    return trainer, module


@torch.no_grad()
def _mean_nll(doctor: Doctor, module: WarmStart, demonstrations) -> float:
    rows = demonstration_rows(demonstrations, doctor)
    total = sum(-float(module.token_log_probs(collate(g, doctor.tokenizer.pad_token_id), 256).sum())
                for g in pack(rows, 4096))
    return total / sum(r.num_completion_tokens for r in rows)


def test_warm_start_lowers_the_loss_and_grpo_continues_from_its_adapter(tiny_model_dir, kb_demonstrations, tmp_path):
    path, demonstrations = kb_demonstrations
    before = WarmStart(doctor=DoctorConfig(model=tiny_model_dir, **TINY_LORA))
    before.configure_model()
    start = _mean_nll(before.policy, before, demonstrations)
    trainer, module = _fit(tiny_model_dir, path, tmp_path, max_steps=6)
    after = _mean_nll(module.policy, module, demonstrations)
    # a 32-wide random model with a frozen, tiny-norm head can only move ~1 nat; 6 steps moved 0.12
    assert after < start - 0.05, (start, after)
    assert "val/format" in trainer.callback_metrics and "train/loss" in trainer.callback_metrics
    lora = {n: p for n, p in module.policy.model.named_parameters() if "lora_" in n}
    assert not any(p.requires_grad for n, p in module.policy.model.named_parameters() if "lora_" not in n)

    # chain: GRPO starts from the exported adapter, its weights exactly, and trainable
    adapter = tmp_path / "w" / "version_0" / "checkpoints" / "last-adapter"
    saved = load_file(str(adapter / "adapter_model.safetensors"))
    grpo = DiagnosisGRPO(doctor=DoctorConfig(model=tiny_model_dir, adapter=str(adapter), **TINY_LORA))
    grpo.configure_model()
    loaded = dict(grpo.policy.model.named_parameters())
    assert len(saved) == len(lora)
    for key, value in saved.items():
        name = key.replace(".weight", ".default.weight")
        assert torch.equal(loaded[name], value) and torch.equal(loaded[name], lora[name].detach())
        assert loaded[name].requires_grad


@pytest.mark.slow  # three fits (straight, first part, resumed)
def test_resume_continues_the_demonstration_stream_and_matches_an_uninterrupted_run(tiny_model_dir,
                                                                                    kb_demonstrations, tmp_path):
    path, _ = kb_demonstrations
    flat = {"min_lr_ratio": 1.0}  # the cosine ends at max_steps: a flat rate lets 2 + 1 steps equal 3
    _, straight = _fit(tiny_model_dir, path, tmp_path / "a", max_steps=3, **flat)
    _, first = _fit(tiny_model_dir, path, tmp_path / "b", max_steps=2, **flat)
    trainer, resumed = _fit(tiny_model_dir, path, tmp_path / "b", max_steps=3, ckpt_path="last", **flat)
    assert trainer.global_step == 3
    assert first.recorder.batches + resumed.recorder.batches == straight.recorder.batches
    assert len(straight.recorder.batches) == 3 and len({i for b in straight.recorder.batches for i in b}) == 8
    expected = dict(straight.policy.model.named_parameters())
    for name, param in resumed.policy.model.named_parameters():
        if "lora_" in name:
            assert torch.allclose(param, expected[name], atol=1e-6), name


def test_demonstrations_of_held_out_cases_or_another_source_are_refused(kb_demonstrations, tmp_path):
    path, demonstrations = kb_demonstrations
    held_out = case_source("kb").held_out(2, 7)[0]
    leaked = tmp_path / "leaked.jsonl"
    leaked.write_text(demonstrations[0].to_json().replace(demonstrations[0].case_id, held_out.case_id) + "\n")
    with pytest.raises(ConfigError, match="held-out"):
        DemonstrationDataModule(str(leaked), cases="kb", val_size=2, seed=7)
    other = tmp_path / "other.jsonl"
    other.write_text(demonstrations[0].to_json().replace('"cases": "kb"', '"cases": "ddxplus-sample:/x"') + "\n")
    with pytest.raises(ConfigError, match="played on"):
        DemonstrationDataModule(str(other), cases="kb")


def test_max_turns_must_match_the_demonstrations(tiny_model_dir, kb_demonstrations, tmp_path):
    with pytest.raises(ConfigError, match="max_turns"):
        _fit(tiny_model_dir, kb_demonstrations[0], tmp_path, max_steps=1, max_turns=3)


def test_learning_rate_warms_up_then_decays():
    assert learning_rate_factor(0, 4, 20, 0.1) == 0.25 and learning_rate_factor(3, 4, 20, 0.1) == 1.0
    assert learning_rate_factor(4, 4, 20, 0.1) == 1.0
    assert learning_rate_factor(12, 4, 20, 0.1) == pytest.approx(0.55)
    assert learning_rate_factor(20, 4, 20, 0.1) == pytest.approx(0.1) == learning_rate_factor(99, 4, 20, 0.1)


@pytest.fixture(scope="module")
def tiny_adapter(tiny_model_dir, tmp_path_factory):
    """A PEFT adapter of the tiny model with non-zero LoRA weights, saved as training exports it."""
    model, tokenizer = load_doctor_model(DoctorConfig(model=tiny_model_dir, **TINY_LORA))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.normal_()
    folder = tmp_path_factory.mktemp("adapter") / "last-adapter"
    model.save_pretrained(folder)
    return folder


def test_adapter_loads_exactly_and_trainable(tiny_model_dir, tiny_adapter):
    model, _ = load_doctor_model(DoctorConfig(model=tiny_model_dir, adapter=str(tiny_adapter), **TINY_LORA))
    saved = load_file(str(tiny_adapter / "adapter_model.safetensors"))
    params = dict(model.named_parameters())
    assert all(torch.equal(params[k.replace(".weight", ".default.weight")], v) for k, v in saved.items())
    assert {n for n, p in params.items() if p.requires_grad} == {k.replace(".weight", ".default.weight") for k in saved}


def _cli_error(args, tmp_path, capsys):
    from grpodx.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs" / "default.yaml"),
              "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"), *args])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert exit_info.value.code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists()
    return errors[0]


def test_bad_adapters_fail_with_one_line_before_weights_load(tiny_model_dir, tiny_adapter, tmp_path, capsys,
                                                             monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py"])
    tiny = ["--model.doctor.model", tiny_model_dir, "--model.doctor.lora_rank", "4", "--model.doctor.lora_alpha", "8"]
    missing = _cli_error(["--model.doctor.adapter", str(tmp_path / "nowhere")], tmp_path, capsys)
    assert "doctor.adapter" in missing and "does not exist" in missing
    (tmp_path / "empty").mkdir()
    not_peft = _cli_error([*tiny, "--model.doctor.adapter", str(tmp_path / "empty")], tmp_path, capsys)
    assert "not a PEFT adapter" in not_peft
    other_base = _cli_error(["--model.doctor.adapter", str(tiny_adapter), "--model.doctor.lora_rank", "4",
                             "--model.doctor.lora_alpha", "8"], tmp_path, capsys)  # default model, tiny adapter
    assert "trained on" in other_base
    rank = _cli_error(["--model.doctor.model", tiny_model_dir, "--model.doctor.adapter", str(tiny_adapter)],
                      tmp_path, capsys)
    assert "lora_rank 4" in rank and "set model.doctor.lora_rank: 4" in rank


@pytest.mark.slow
def test_train_py_warm_start_then_grpo_from_its_adapter(tiny_model_dir, kb_demonstrations, tmp_path):
    path, _ = kb_demonstrations
    tiny = ["--trainer.logger.init_args.save_dir", str(tmp_path / "runs"), "--transcripts.console", "false"]
    warm = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/warmstart.yaml", *tiny,
         "--model.init_args.doctor.model", tiny_model_dir, "--model.init_args.doctor.max_new_tokens", "8",
         "--data.init_args.demonstrations", path, "--data.init_args.val_size", "2", "--trainer.max_steps", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert warm.returncode == 0, warm.stderr[-3000:]
    run = tmp_path / "runs" / "warmstart" / "version_0"
    assert (run / "checkpoints" / "last.ckpt").is_file() and "WarmStart" in (run / "config.yaml").read_text()
    grpo = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/default.yaml", *tiny,
         "--model.doctor.model", tiny_model_dir, "--model.doctor.max_new_tokens", "8", "--model.max_turns", "2",
         "--model.doctor.adapter", str(run / "checkpoints" / "last-adapter"), "--data.val_size", "2",
         "--trainer.max_steps", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert grpo.returncode == 0, grpo.stderr[-3000:]
    config = (tmp_path / "runs" / "default" / "version_0" / "config.yaml").read_text()
    assert "last-adapter" in config and json.loads((run / "checkpoints" / "last-adapter" / "adapter_config.json")
                                                   .read_text())["r"] == 16


def _named_demonstration():
    case = case_source("kb").train_case(0, 0)
    turns = (DemonstrationTurn("<reason>Most likely Migraine.</reason>\nAny fever?", False, ("fever",), "No."),
             DemonstrationTurn("<reason>Migraine.</reason>\nDifferential: Migraine, Tension headache\n"
                               "Final diagnosis: Migraine", True))
    return Demonstration(case.case_id, "kb", "Migraine", case.opening_statement, turns, "Migraine", True, 1.0)


def test_diagnosis_weight_lands_on_the_name_tokens_in_both_layouts(tiny_doctor):
    demonstration = _named_demonstration()
    names = ("Migraine", "Tension headache")
    rows = demonstration_rows([demonstration], tiny_doctor, names, 4.0)
    tokenizer = tiny_doctor.tokenizer
    for row, turn in zip(rows, demonstration.turns):
        completion = row.ids[row.completion_start:]
        assert len(row.weights) == len(completion) and row.weights[-1] == 1.0  # the stop token
        weighted = tokenizer.decode([i for i, w in zip(completion, row.weights) if w == 4.0])
        assert weighted.replace(" ", "") == "".join(n.replace(" ", "") for n in _names_in(turn.text, names))
    per_row = collate(rows, tokenizer.pad_token_id)
    packed = collate_chains(chains(rows)[0:1], tokenizer.pad_token_id)
    expected = [w for r in rows for w in r.weights]
    assert per_row.weights.tolist() == expected and packed.weights.tolist() == expected
    assert per_row.targets.tolist() == packed.targets.tolist()
    plain = demonstration_rows([demonstration], tiny_doctor, names, 1.0)  # weight 1: no weights at all
    assert all(r.weights is None for r in plain) and collate(plain, tokenizer.pad_token_id).weights.eq(1).all()
    assert [r.ids for r in plain] == [r.ids for r in rows]


def _names_in(text, names):
    import re
    return re.findall("|".join(sorted(map(re.escape, names), key=len, reverse=True)), text)


def test_diagnosis_weight_needs_condition_names_and_must_be_positive(tiny_model_dir):
    with pytest.raises(ConfigError, match="diagnosis_weight"):
        WarmStartConfig(diagnosis_weight=0.0).validate()
    module = WarmStart(doctor=DoctorConfig(model=tiny_model_dir, **TINY_LORA),
                       optimizer=WarmStartConfig(diagnosis_weight=3.0))
    with pytest.raises(ConfigError, match="condition names"):
        module.setup("fit")  # no datamodule gives the names


def test_the_data_module_names_every_condition_of_the_demonstrations(kb_demonstrations):
    path, demonstrations = kb_demonstrations
    names = DemonstrationDataModule(path, cases="kb", val_size=2, seed=7).condition_names
    assert {d.hidden_diagnosis for d in demonstrations} | {d.final_diagnosis for d in demonstrations} <= set(names)


def test_kl_reference_after_a_warm_start_is_the_starting_adapter_not_the_base(tiny_model_dir, tiny_adapter):
    """GRPO chained after a warm start anchors its KL to the warm start; the base model stays one
    switch away (adapter_off) for evaluating it."""
    doctor = Doctor(*load_doctor_model(DoctorConfig(model=tiny_model_dir, adapter=str(tiny_adapter), **TINY_LORA)),
                    DoctorConfig(model=tiny_model_dir, adapter=str(tiny_adapter), **TINY_LORA))
    ids = torch.tensor([[1, 5, 9, 14, 3, 7]])

    def logits():
        with torch.no_grad():
            return doctor.model(input_ids=ids).logits

    start = logits()
    with torch.no_grad():  # a few GRPO steps later: the trainable LoRA has moved
        for name, param in doctor.model.named_parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.5)
    moved = logits()
    moved_weights = {n: p.detach().clone() for n, p in doctor.model.named_parameters() if p.requires_grad}
    with doctor.adapter_off():
        base = logits()
    with doctor.reference_policy():
        reference = logits()
    assert not torch.allclose(start, moved, atol=1e-4) and not torch.allclose(start, base, atol=1e-4)
    assert torch.allclose(reference, start, atol=1e-6)
    assert torch.allclose(logits(), moved, atol=1e-6)  # the trained weights are back, exactly
    assert all(torch.equal(p, moved_weights[n]) for n, p in doctor.model.named_parameters() if p.requires_grad)


def test_kl_reference_of_a_fresh_lora_is_the_base_model(tiny_model_dir):
    doctor = Doctor(*load_doctor_model(DoctorConfig(model=tiny_model_dir, **TINY_LORA)),
                    DoctorConfig(model=tiny_model_dir, **TINY_LORA))
    with torch.no_grad():
        for param in doctor.model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.5)
    ids = torch.tensor([[1, 5, 9, 14, 3, 7]])
    with torch.no_grad(), doctor.reference_policy():
        reference = doctor.model(input_ids=ids).logits
    with torch.no_grad(), doctor.adapter_off():
        base = doctor.model(input_ids=ids).logits
    assert torch.equal(reference, base)
