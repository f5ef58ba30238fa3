"""The interactive chat: the training prompt rule, JSONL records, clean EOF and Ctrl-C exits, and
restoring a doctor from an adapter folder or a checkpoint."""

import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest
import torch
from rich.console import Console

from grpodx.chat import TerminalChat
from grpodx.doctor import DoctorConfig
from grpodx.doctor.prompting import LAST_TURN, SYSTEM_PROMPT
from grpodx.errors import ConfigError
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def tiny_adapter(tiny_model_dir, tmp_path_factory) -> str:
    """A PEFT adapter with random (non-zero) LoRA weights, exported as training exports one."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                      init_lora_weights=False, task_type="CAUSAL_LM"))
    folder = tmp_path_factory.mktemp("adapter") / "last-adapter"
    model.save_pretrained(folder)
    return str(folder)


def _chat(tiny_model_dir, tiny_adapter, save, *extra) -> list[str]:
    return [sys.executable, "-m", "grpodx.chat", "--model", tiny_model_dir, "--adapter", tiny_adapter,
            "--max-new-tokens", "6", "--save", str(save), *extra]


@pytest.mark.slow  # a subprocess loads a model
def test_chat_subprocess_saves_every_turn_and_exits_cleanly_at_eof(tiny_model_dir, tiny_adapter, tmp_path):
    save = tmp_path / "chats.jsonl"
    result = subprocess.run(_chat(tiny_model_dir, tiny_adapter, save, "--max-turns", "3", "--greedy",
                                  "--show-reasoning"),
                            input="I have chest pain.\nIt started this morning.\n", cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    [record] = [json.loads(line) for line in save.read_text().splitlines()]
    assert record["ended_by"] == "eof" and record["adapter"] == tiny_adapter and record["greedy"]
    roles = [t["role"] for t in record["turns"]]
    assert roles == ["patient", "doctor", "patient", "doctor"]
    assert record["turns"][0]["text"] == "I have chest pain."
    assert all({"text", "reasoning", "raw", "well_formed"} <= t.keys() for t in record["turns"] if t["role"] == "doctor")


def _default_sigint():
    """Ctrl-C as at a terminal: a suite started in the background (`cmd &` without job control)
    passes SIGINT down ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow  # a subprocess loads a model
def test_ctrl_c_exits_0_and_saves_the_conversation_so_far(tiny_model_dir, tiny_adapter, tmp_path):
    save = tmp_path / "chats.jsonl"
    process = subprocess.Popen(_chat(tiny_model_dir, tiny_adapter, save, "--max-turns", "5"), cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_default_sigint)
    process.stdin.write(b"I have a cough.\n")
    process.stdin.flush()
    seen, deadline = b"", time.time() + 90
    while seen.count(b"You (patient):") < 2 and time.time() < deadline:  # waiting for the 2nd answer
        if select.select([process.stdout], [], [], 1)[0]:
            seen += os.read(process.stdout.fileno(), 4096)
    assert seen.count(b"You (patient):") >= 2, seen
    process.send_signal(signal.SIGINT)
    # stdin stays open until it exits, so an unhandled SIGINT fails as a timeout, not as an "eof" ending
    process.wait(timeout=30)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr
    [record] = [json.loads(line) for line in save.read_text().splitlines()]
    assert record["ended_by"] == "interrupt" and [t["role"] for t in record["turns"]] == ["patient", "doctor"]


class ScriptedDoctor:
    """Says the scripted turns in order; records the chat messages each turn was prompted with."""

    def __init__(self, turns):
        self.turns, self.prompts = list(turns), []

    def prompt_ids(self, messages):
        self.prompts.append(messages)
        return [len(self.prompts)]

    def sample(self, prompts, greedy=False, **cache):
        return [[len(self.prompts) - 1]]

    def decode(self, ids):
        return self.turns[ids[0]]

    def turn_cache(self):
        return None


def _session(doctor, monkeypatch, lines, max_turns=3, tmp_path=None):
    answers = iter(lines)

    def fake_input(*_):
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    out = io.StringIO()
    save = tmp_path / "chats.jsonl"
    TerminalChat(doctor, Console(file=out, width=200), max_turns, greedy=True, show_reasoning=True,
                save=str(save), settings={"model": "scripted"}).run()
    return out.getvalue(), [json.loads(line) for line in save.read_text().splitlines()]


def test_the_doctor_sees_visible_history_only_and_final_diagnosis_ends_the_chat(monkeypatch, tmp_path):
    doctor = ScriptedDoctor(["<reason>think of angina</reason> Does the pain spread to your arm?",
                             "<reason>classic story</reason> Final diagnosis: Myocardial infarction"])
    screen, [record] = _session(doctor, monkeypatch, ["I have chest pain.", "Yes, to my left arm."],
                                tmp_path=tmp_path)
    second = doctor.prompts[1]
    assert second[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert [m["content"] for m in second[1:]] == ["I have chest pain.", "Does the pain spread to your arm?",
                                                  "Yes, to my left arm."]  # reasoning never re-enters
    assert "think of angina" in screen and "Myocardial infarction" in screen  # --show-reasoning
    assert record["ended_by"] == "final_diagnosis" and record["final_diagnosis"] == "Myocardial infarction"
    assert record["turns"][1]["reasoning"] == "think of angina" and record["turns"][1]["well_formed"]


def test_the_last_turn_asks_for_a_diagnosis_and_max_turns_ends_the_chat(monkeypatch, tmp_path):
    doctor = ScriptedDoctor(["Where does it hurt?", "How long?"])
    _, [record] = _session(doctor, monkeypatch, ["I feel unwell.", "My chest."], max_turns=2, tmp_path=tmp_path)
    assert doctor.prompts[-1][-1] == {"role": "system", "content": LAST_TURN}
    assert LAST_TURN not in str(doctor.prompts[0])
    assert record["ended_by"] == "max_turns" and record["final_diagnosis"] is None


def test_restore_from_adapter_and_from_checkpoint(tiny_model_dir, tiny_adapter, tmp_path):
    from safetensors.torch import load_file

    from grpodx.doctor.restore import read_checkpoint, restore_doctor

    doctor = restore_doctor(tiny_model_dir, adapter=tiny_adapter)
    exported = load_file(f"{tiny_adapter}/adapter_model.safetensors")
    params = dict(doctor.model.named_parameters())
    assert exported and all(torch.equal(params[k.replace(".weight", ".default.weight")], v)
                            for k, v in exported.items())

    config = DoctorConfig(model=tiny_model_dir, lora_rank=4, lora_alpha=8, max_new_tokens=5)
    fresh = restore_doctor(tiny_model_dir, lora_rank=4, lora_alpha=8)
    lora = {f"policy.{k}": torch.randn_like(p) for k, p in fresh.named_parameters() if "lora_" in k}
    torch.save({"state_dict": lora, "hyper_parameters": {"doctor": asdict(config), "max_turns": 3},
                "global_step": 7}, tmp_path / "last.ckpt")
    saved = read_checkpoint(str(tmp_path / "last.ckpt"))
    assert saved.max_turns == 3 and saved.global_step == 7 and saved.doctor.lora_rank == 4
    restored = dict(restore_doctor(None, None, saved).named_parameters())
    assert all(torch.equal(restored[k.removeprefix("policy.")], v) for k, v in lora.items())

    torch.save({"state_dict": lora, "hyper_parameters": {"doctor": asdict(DoctorConfig(
        model=tiny_model_dir, lora_rank=8))}}, tmp_path / "other.ckpt")
    with pytest.raises(ConfigError, match="does not fit"):
        restore_doctor(None, None, read_checkpoint(str(tmp_path / "other.ckpt")))
