"""SIGTERM mid-rollout (a real signal to a real `train.py fit`): the process stops within 30 s with
exit code 143, `last.ckpt` holds the last completed step, and `--ckpt_path last` then redoes the
dropped step exactly as an uninterrupted run does it."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import ROOT
from tests.fake_openai_server import FakeOpenAIServer, Scripted, default_route

pytestmark = pytest.mark.slow  # train.py fit in subprocesses
PATIENT_DELAY_S = 2.0  # each patient reply takes this long: a rollout is in progress for seconds


def _slow_patient(request: dict) -> Scripted:
    answer = default_route(request)
    if not (request.get("response_format") or {}).get("json_schema"):  # the patient's plain reply
        return Scripted(answer.content, delay_s=PATIENT_DELAY_S)
    return answer


def _command(server, tiny_model_dir, save_dir, *extra) -> list[str]:
    return [sys.executable, "train.py", "fit", "--config", "configs/local-server.yaml",
            *(arg for party in ("patient", "judge") for arg in (
                f"--model.{party}.init_args.base_url", server.base_url,
                f"--model.{party}.init_args.api_key_env", "OPENAI_API_KEY",
                f"--model.{party}.init_args.model", "gpt-4o-mini")),
            "--model.doctor.model", tiny_model_dir, "--model.doctor.dtype", "float32",
            "--model.doctor.max_new_tokens", "8", "--model.group_size", "2", "--model.max_turns", "3",
            "--data.batch_size", "1", "--data.val_size", "1", "--checkpoint.every_n_train_steps", "1000",
            "--transcripts.every_n_steps", "1", "--transcripts.console", "false", "--progress.enabled", "false",
            "--trainer.logger.init_args.save_dir", str(save_dir), *extra]


def _judged(server, after: int = 0) -> int:
    return sum(1 for r in server.requests[after:] if (r.get("response_format") or {}).get("json_schema", {}).get("name")
               == "judge_scores")


def _step_records(run, step: int) -> list[dict]:
    lines = (run / "transcripts.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == "train" and r["step"] == step]


def test_sigterm_mid_rollout_saves_the_last_step_and_resume_redoes_the_dropped_one(tiny_model_dir, tmp_path):
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-preemption", "OMP_NUM_THREADS": "1"}
    server = FakeOpenAIServer(route=_slow_patient, lifetime_s=600).start()
    try:
        process = subprocess.Popen(_command(server, tiny_model_dir, tmp_path / "a", "--trainer.max_steps", "1000"),
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None and _judged(server) < 2:
            time.sleep(0.2)  # step 1's two episodes judged ...
        mark = len(server.requests)
        while time.monotonic() < deadline and process.poll() is None and \
                not any(not r.get("response_format") for r in server.requests[mark:]):
            time.sleep(0.2)  # ... then step 2's rollout asks the patient
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(PATIENT_DELAY_S / 2)  # mid-rollout: a patient call is in flight
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        stopped_s = time.monotonic() - signalled
        assert process.returncode == 143, stderr[-3000:]
        assert stopped_s < 30
        assert "preempted: step 1 saved to" in stderr
        run_a = tmp_path / "a" / "local-server" / "version_0"
        checkpoint = torch.load(run_a / "checkpoints" / "last.ckpt", weights_only=True)
        assert checkpoint["global_step"] == 1 and checkpoint["CaseDataModule"]["next_batch"] == 1
        assert (run_a / "checkpoints" / "last-adapter" / "adapter_config.json").is_file()
        assert not list(run_a.glob("checkpoints/*.partial"))

        resumed = subprocess.run(_command(server, tiny_model_dir, tmp_path / "a", "--ckpt_path", "last",
                                          "--trainer.max_steps", "2"), cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        straight = subprocess.run(_command(server, tiny_model_dir, tmp_path / "b", "--trainer.max_steps", "2"),
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert straight.returncode == 0, straight.stderr[-3000:]
    finally:
        server.stop()
    redone = _step_records(tmp_path / "a" / "local-server" / "version_1", 2)
    uninterrupted = _step_records(tmp_path / "b" / "local-server" / "version_0", 2)
    assert redone and [(r["case_id"], r["turns"]) for r in redone] == [(r["case_id"], r["turns"]) for r in uninterrupted]


def _start(server, tiny_model_dir, save_dir, env) -> subprocess.Popen:
    return subprocess.Popen(_command(server, tiny_model_dir, save_dir, "--trainer.max_steps", "1000"), cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_patient_call(server, process, after: int, deadline: float) -> None:
    while time.monotonic() < deadline and process.poll() is None and \
            not any(not r.get("response_format") for r in server.requests[after:]):
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[1][-3000:]
    time.sleep(PATIENT_DELAY_S / 2)


def test_ctrl_c_keeps_completed_steps_and_an_interrupted_first_step_leaves_no_folder(tiny_model_dir, tmp_path):
    """A first Ctrl-C stops like SIGTERM (exit 130, last completed step saved); stopped before any
    step completed, the run removes its empty version folder instead of leaving it behind."""
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-preemption", "OMP_NUM_THREADS": "1"}
    server = FakeOpenAIServer(route=_slow_patient, lifetime_s=600).start()
    try:
        early = _start(server, tiny_model_dir, tmp_path / "early", env)
        _wait_for_patient_call(server, early, 0, time.monotonic() + 300)  # step 1's rollout
        early.send_signal(signal.SIGINT)
        _, early_err = early.communicate(timeout=60)

        mark = len(server.requests)
        late = _start(server, tiny_model_dir, tmp_path / "late", env)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and late.poll() is None and _judged(server, mark) < 2:
            time.sleep(0.2)  # step 1 judged ...
        _wait_for_patient_call(server, late, len(server.requests), deadline)  # ... step 2's rollout
        late.send_signal(signal.SIGINT)
        _, late_err = late.communicate(timeout=60)
    finally:
        server.stop()
    assert early.returncode == 130, early_err[-3000:]
    assert "no step completed: removed the run folder" in early_err
    assert not (tmp_path / "early" / "local-server" / "version_0").exists()
    assert late.returncode == 130, late_err[-3000:]
    assert "stopped: step 1 saved to" in late_err
    checkpoint = torch.load(tmp_path / "late" / "local-server" / "version_0" / "checkpoints" / "last.ckpt",
                            weights_only=True)
    assert checkpoint["global_step"] == 1 and checkpoint["CaseDataModule"]["next_batch"] == 1
