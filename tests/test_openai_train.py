"""`train.py fit` with the API patient and judge served by a real local chat-completions server."""

import itertools
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.fake_openai_server import FakeOpenAIServer, Scripted, default_route

pytestmark = pytest.mark.slow  # train.py fit in a subprocess

SECRET = "sk-test-DO-NOT-WRITE-api-0123456789"
API_TAGS = {"api/patient_tokens", "api/judge_tokens", "api/latency_p50", "api/cost_usd"}


def _varied_judge():
    """Judge scores that differ between episodes, so the step has a non-zero GRPO advantage."""
    counter = itertools.count()

    def route(request: dict) -> Scripted:
        answer = default_route(request)
        if (request.get("response_format") or {}).get("json_schema", {}).get("name") == "judge_scores":
            scores = json.loads(answer.content)
            scores["diagnosis_accuracy"] = next(counter) % 3 / 2
            answer = Scripted(json.dumps(scores))
        return answer

    return route


def _fit(server_url: str, save_dir, *extra, env=None):
    args = [sys.executable, "train.py", "fit", "--config", "configs/local-server.yaml",
            "--trainer.logger.init_args.save_dir", str(save_dir), "--transcripts.console", "false",
            *(arg for party in ("patient", "judge") for arg in (
                f"--model.{party}.init_args.base_url", server_url,
                f"--model.{party}.init_args.api_key_env", "OPENAI_API_KEY",
                f"--model.{party}.init_args.model", "gpt-4o-mini")), *extra]
    environ = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**environ, **(env or {})})


def test_fit_step_with_api_patient_and_judge_logs_usage_and_never_writes_the_key(tiny_model_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    server = FakeOpenAIServer(route=_varied_judge()).start()
    try:
        result = _fit(server.base_url, tmp_path, "--openai-api-key", SECRET, "--model.patient.init_args.mode", "free",
                      "--model.doctor.model", tiny_model_dir, "--model.doctor.dtype", "float32",
                      "--data.batch_size", "1", "--model.group_size", "2", "--model.max_turns", "2",
                      "--model.doctor.max_new_tokens", "8", "--trainer.max_steps", "1", "--data.val_size", "1")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    schemas = [(r.get("response_format") or {}).get("json_schema", {}).get("name") for r in server.requests]
    assert "disease_pick" in schemas and schemas.count("judge_scores") >= 2  # 2 training episodes + validation
    assert set(server.authorizations) == {f"Bearer {SECRET}"}

    run = tmp_path / "local-server" / "version_0"
    events = EventAccumulator(str(run))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert API_TAGS <= tags and "train/failed_episodes" in tags, tags
    assert events.Scalars("api/judge_tokens")[0].value > 0
    records = [json.loads(line) for line in (run / "transcripts.jsonl").read_text().splitlines()]
    assert records[0]["hidden_diagnosis"] == "Influenza" and "diagnosis" in records[0]["breakdown"]

    for path in tmp_path.rglob("*"):  # the key never lands on disk (config.yaml, hparams, checkpoints)
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_missing_key_fails_before_the_doctor_loads(tmp_path):
    result = _fit("http://127.0.0.1:9/v1", tmp_path / "runs", "--model.doctor.model", "./no/such/model")
    assert result.returncode == 2
    assert "model.init_args.patient.init_args.api_key_env: OPENAI_API_KEY is not set" in result.stderr
    assert "no/such/model" not in result.stderr  # the patient failed first, before the doctor was looked at
    assert not (tmp_path / "runs").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr


def _faulty(rate_every: int = 10):
    """Grounded-mode answers with 3 faults in every 10 requests (30 %): 500, a malformed body, an
    empty `choices`, a timeout and a 429 in rotation; the rest are normal (judge scores vary)."""
    counter = itertools.count()
    varied = _varied_judge()
    faults = [Scripted(status=500, raw_body='{"error": {"message": "boom"}}'), Scripted(raw_body="{not json"),
              Scripted(raw_body=json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                                            "choices": []})),
              Scripted(delay_s=3.0), Scripted(status=429, raw_body='{"error": {"message": "slow down"}}')]
    fault_cycle = itertools.cycle(faults)

    def route(request: dict) -> Scripted:
        return next(fault_cycle) if next(counter) % rate_every < 3 else varied(request)

    return route


def test_training_survives_30_percent_api_faults_without_made_up_rewards(tiny_model_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    server = FakeOpenAIServer(route=_faulty()).start()
    try:
        result = _fit(server.base_url, tmp_path, "--openai-api-key", SECRET,
                      *(arg for party in ("patient", "judge") for arg in (
                          f"--model.{party}.init_args.max_retries", "0", f"--model.{party}.init_args.timeout", "1")),
                      "--model.doctor.model", tiny_model_dir, "--model.doctor.dtype", "float32",
                      "--data.batch_size", "2", "--model.group_size", "3", "--model.max_turns", "2",
                      "--model.doctor.max_new_tokens", "8", "--trainer.max_steps", "2", "--data.val_size", "1")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    events = EventAccumulator(str(tmp_path / "local-server" / "version_0"))
    events.Reload()
    failed = [e.value for e in events.Scalars("train/failed_episodes")]
    assert len(failed) == 2 and sum(failed) > 0  # faults became failed episodes ...
    for reward in events.Scalars("train/reward"):  # ... and the rest were scored in [0, 1]
        assert 0.0 <= reward.value <= 1.0
