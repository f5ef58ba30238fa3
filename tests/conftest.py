"""Shared fixtures: a tiny randomly initialised chat model, cases, the shared DDXPlus folder, and a
real OpenAI-compatible server (`transformers serve`) on the embedded default model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from grpodx.judges import Judge
from tests.fake_openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[1]
SHARED_DDXPLUS = ROOT.parent / "shared" / "data" / "ddxplus"


@pytest.fixture(scope="session", autouse=True)
def float32_where_auto():
    """In-process doctors load in float32 when their dtype is `auto`. Tests compare two code paths
    (cached vs fresh, packed vs per-row, our decode kernel vs SDPA) at float32 tolerances, and `auto`
    is bfloat16 on a CPU with AMX/AVX512-BF16 (an Intel Xeon of this project's machines), where one
    bf16 rounding step (2^-9 at a logit of 0.6) already exceeds them. A test wanting bf16 names it."""
    from grpodx.doctor import config

    resolve = config.resolve_dtype
    config.resolve_dtype = lambda dtype: "float32" if dtype == "auto" else resolve(dtype)
    yield
    config.resolve_dtype = resolve


@pytest.fixture()
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A scripted OpenAI-compatible HTTP server (tests/fake_openai_server.py), stopped at teardown."""
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A 2-layer random Llama with the real SmolLM2 tokenizer and chat template, saved locally.

    Integration tests use it so they exercise the real loading, LoRA, generation and loss code in
    seconds; only the end-to-end test loads the real default model.
    """
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from grpodx.doctor.config import DEFAULT_MODEL
    from grpodx.doctor.reference import resolve_model_reference

    source = resolve_model_reference(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-doctor")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def scaled_head_copy(model_dir: str, factor: float, folder: Path) -> str:
    """A copy of a model with its output embeddings `factor` times larger (sharper logits)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(factor)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def one_demonstration(tmp_path) -> Path:
    """A demonstrations JSONL of one single-turn episode: enough for the warm start's CLI to build."""
    path = tmp_path / "d.jsonl"
    turn = {"text": "<reason>r</reason>\nFinal diagnosis: Gout", "last_turn": True}
    path.write_text(json.dumps({"case_id": "kb-train-0", "cases": "kb", "hidden_diagnosis": "Gout",
                                "opening_statement": "Hi.", "turns": [turn], "final_diagnosis": "Gout",
                                "top1": True, "reward": 1.0}) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_doctor(tiny_model_dir):
    from grpodx.doctor import Doctor, DoctorConfig
    from grpodx.doctor.loading import load_doctor_model

    config = DoctorConfig(model=tiny_model_dir, max_new_tokens=12, lora_rank=4, lora_alpha=8)
    model, tokenizer = load_doctor_model(config)
    return Doctor(model, tokenizer, config)


@pytest.fixture(scope="session")
def kb():
    from grpodx.cases.knowledge import embedded_knowledge_base

    return embedded_knowledge_base()


@pytest.fixture()
def ddxplus_dir() -> Path:
    if not SHARED_DDXPLUS.is_dir():
        pytest.skip(f"DDXPlus data not found at {SHARED_DDXPLUS} (it lives in ../shared beside the checkout)")
    return SHARED_DDXPLUS


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    """Keep converted models in one place per session unless CI/user chose one."""
    if "GRPODX_CACHE" not in os.environ:
        monkeypatch.setenv("GRPODX_CACHE", str(Path.home() / ".cache" / "grpodx"))


@dataclass(frozen=True)
class LocalServer:
    """Where the local OpenAI-compatible server listens and the model name requests must carry."""

    base_url: str
    model: str


SERVE = "import sys; from transformers.cli.transformers import main; sys.argv[0] = 'transformers'; sys.exit(main())"
SERVER_START_S = 180.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, base_url: str, model: str, log: Path) -> None:
    """Poll GET /v1/models until it lists the model; fail with the log's tail if the server dies."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"transformers serve exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if model in {m["id"] for m in json.load(response)["data"]}:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"transformers serve did not answer in {SERVER_START_S:.0f}s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def local_openai_server(tmp_path_factory) -> Iterator[LocalServer]:
    """`transformers serve` on a free 127.0.0.1 port with the embedded default model (the converted
    GGUF folder, on CPU), up for the whole session and stopped at its end.

    A real chat-completions server for the API patient and judge: it ignores `response_format` and
    answers in plain text, so clients' plain-text paths run for real. Requests name `model`.
    """
    for module in ("fastapi", "uvicorn"):
        pytest.importorskip(module, reason="transformers serve needs the dev extra: pip install -e '.[dev]'")
    from grpodx.doctor.config import DEFAULT_MODEL
    from grpodx.doctor.loading import converted_gguf_dir
    from grpodx.doctor.reference import resolve_model_reference

    source = resolve_model_reference(DEFAULT_MODEL)
    model = str(converted_gguf_dir(source) if source.gguf_file else source.path)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log = tmp_path_factory.mktemp("local-server") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--device", "cpu", model], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_serving(process, base_url, model, log)
        yield LocalServer(base_url, model)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ParityJudge(Judge):
    """A real, deterministic judge for integration tests on a random model: the share of the
    doctor's sampled token ids that are even. A random model never diagnoses, so the offline judge
    would score every episode 0 and leave no gradient to test; this reward varies within a group."""

    def score_batch(self, episodes):
        from grpodx.episode import Score

        out = []
        for e in episodes:
            ids = [i for t in e.doctor_turns for i in t.completion_ids]
            value = sum(i % 2 == 0 for i in ids) / max(len(ids), 1)
            out.append(Score(value, {"parity": value}))
        return out
