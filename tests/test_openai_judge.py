"""The API judge against a real local chat-completions server, through the official openai client."""

import json
import random
import time

import pytest

from grpodx.api import shared_ledger
from grpodx.episode import DoctorTurn, Episode, PatientReply
from grpodx.errors import ConfigError
from grpodx.judges import OpenAIJudge
from grpodx.judges.openai_judge import first_unit_number
from grpodx.knowledge import sample_case
from tests.fake_openai_server import Scripted, fake_openai, retry_soon  # noqa: F401 (fixture)

LATENCY_S, N_EPISODES = 0.25, 12
REFUSED = Scripted(status=400, raw_body=json.dumps({"error": {"message": "response_format is not supported"}}))


@pytest.fixture(autouse=True)
def _key_and_clean_ledger(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-judge")
    shared_ledger().drain()


def _judge(server, **overrides) -> OpenAIJudge:
    args = dict(base_url=server.base_url, timeout=2.0, max_retries=1, max_concurrency=16)
    return OpenAIJudge(**{**args, **overrides})


def _episode(kb, final: str | None = "Pneumonia") -> Episode:
    case = sample_case(kb, kb.conditions[0], random.Random(0), "c0")
    episode = Episode(case, group=0)
    episode.doctor_turns.append(DoctorTurn([1], [2], "", "Any chest pain?", "Think cardiac first.", True))
    episode.patient_replies.append(PatientReply("Yes, crushing pain."))
    episode.doctor_turns.append(DoctorTurn([1], [2], "", f"Final diagnosis: {final}", "Classic story.", True))
    episode.final_diagnosis = final
    return episode


def test_structured_sub_scores_are_weighted_into_the_reward(fake_openai, kb):
    score = _judge(fake_openai).score(_episode(kb))
    assert score.parts == {"diagnosis": 0.5, "reasoning": 0.8, "questions": 1.0}
    assert score.reward == pytest.approx(0.6 * 0.5 + 0.2 * 0.8 + 0.2 * 1.0)
    assert score.diagnosis_level == "partial" and score.rationale == "Close, but not exact." and score.structured
    request = fake_openai.requests[0]
    assert request["response_format"]["json_schema"]["name"] == "judge_scores"
    prompt = request["messages"][-1]["content"]
    assert kb.conditions[0].name in prompt  # the hidden disease
    assert "<reason>Think cardiac first.</reason> Any chest pain?" in prompt and "Patient: Yes, crushing pain." in prompt


def test_weights_come_from_config(fake_openai, kb):
    score = _judge(fake_openai, weights={"diagnosis": 1.0, "reasoning": 0.0, "questions": 0.0}).score(_episode(kb))
    assert score.reward == pytest.approx(0.5)


def test_exact_answers_count_as_accurate(fake_openai, kb):
    score = _judge(fake_openai).score(_episode(kb, final=kb.conditions[0].name))
    assert score.diagnosis_level == "exact"
    assert _judge(fake_openai).score(_episode(kb, final=None)).diagnosis_level == "missing"


def test_a_server_without_structured_output_gets_the_seeds_question_and_rule(fake_openai, kb):
    judge = _judge(fake_openai)
    fake_openai.queue(REFUSED, Scripted("I would give this 0.7 overall."), Scripted("Score: 0.25"))
    first, second = judge.score(_episode(kb)), judge.score(_episode(kb))
    assert (first.reward, second.reward) == (0.7, 0.25)
    assert first.diagnosis_level == "unstructured" and not first.structured and first.parts == {"overall": 0.7}
    assert "response_format" in fake_openai.requests[0]
    assert all("response_format" not in r for r in fake_openai.requests[1:])  # remembered for the run
    assert "single number between 0 and 1" in fake_openai.requests[1]["messages"][-1]["content"]
    assert shared_ledger().drain()["api/judge_unstructured"] == 2


def test_structured_output_can_be_off_from_the_start(fake_openai, kb):
    fake_openai.queue(Scripted("0.9"))
    assert _judge(fake_openai, structured_output=False).score(_episode(kb)).reward == 0.9
    assert "response_format" not in fake_openai.requests[0]


def test_json_that_misses_the_schema_falls_back_to_the_first_number(fake_openai, kb):
    fake_openai.queue(Scripted('{"diagnosis_accuracy": "high", "overall": 0.4}'))
    score = _judge(fake_openai).score(_episode(kb))
    assert score.reward == 0.4 and score.diagnosis_level == "unstructured"


def test_a_reply_without_a_score_or_a_failing_call_fails_the_episode_never_a_made_up_reward(fake_openai, kb):
    judge = _judge(fake_openai, max_retries=1, max_concurrency=1)
    fake_openai.queue(Scripted("Excellent work, 8/10."), retry_soon(500), retry_soon(500), Scripted(raw_body="{"))
    scores = judge.score_batch([_episode(kb), _episode(kb), _episode(kb), _episode(kb)])
    assert [s.failed for s in scores] == [True, True, True, False]
    assert "no score in [0, 1]" in scores[0].error and "HTTP 500" in scores[1].error
    assert "malformed" in scores[2].error
    assert all(s.reward == 0.0 and s.parts == {} for s in scores[:3])


def test_no_hidden_diagnosis_cannot_be_judged(fake_openai, kb):
    from dataclasses import replace

    episode = _episode(kb)
    episode.case = replace(episode.case, hidden_diagnosis="")
    score = _judge(fake_openai).score(episode)
    assert score.failed and not fake_openai.requests


def test_judge_calls_of_a_step_are_sent_concurrently(fake_openai, kb):
    fake_openai.route = lambda request: Scripted(json.dumps({
        "diagnosis_accuracy": 1, "reasoning_quality": 1, "question_relevance": 1, "rationale": "ok"}), delay_s=LATENCY_S)
    judge = _judge(fake_openai, max_concurrency=N_EPISODES)
    started = time.perf_counter()
    scores = judge.score_batch([_episode(kb) for _ in range(N_EPISODES)])
    elapsed = time.perf_counter() - started
    print(f"\n{N_EPISODES} judge calls at {LATENCY_S}s each: {elapsed:.2f}s = "
          f"{elapsed / (N_EPISODES * LATENCY_S):.3f} of serial")
    assert all(s.reward == 1.0 for s in scores) and elapsed < N_EPISODES * LATENCY_S / 4


def test_usage_counts_judge_tokens_and_cost(fake_openai, kb):
    content = json.dumps({"diagnosis_accuracy": 1, "reasoning_quality": 1, "question_relevance": 1, "rationale": "ok"})
    fake_openai.queue(Scripted(content))
    judge = _judge(fake_openai, model="local-model", prices={"local-model": {"input": 1.0, "output": 2.0}})
    judge.score(_episode(kb))
    usage = judge.drain_usage()
    prompt = sum(len(m["content"].split()) for m in fake_openai.requests[0]["messages"])
    completion = len(content.split())
    assert usage["api/judge_tokens"] == prompt + completion and usage["api/patient_tokens"] == 0
    assert usage["api/cost_usd"] == pytest.approx((prompt * 1.0 + completion * 2.0) / 1e6)


def test_first_unit_number_is_the_seeds_rule():
    assert first_unit_number("Score: 0.8") == 0.8
    assert first_unit_number("I give 7 out of 10, so 0.7") == 0.7
    assert first_unit_number("1") == 1.0 and first_unit_number(".5 points") == 0.5
    assert first_unit_number("8/10") is None


@pytest.mark.parametrize("overrides, field", [
    ({"weights": {"diagnosis": 1.0, "format": 1.0}}, "model.init_args.judge.init_args.weights"),
    ({"max_concurrency": 0}, "model.init_args.judge.init_args.max_concurrency"),
    ({"max_retries": -1}, "model.init_args.judge.init_args.max_retries"),
    ({"temperature": 3.0}, "model.init_args.judge.init_args.temperature"),
])
def test_bad_config_names_the_field(fake_openai, overrides, field):
    with pytest.raises(ConfigError) as error:
        _judge(fake_openai, **overrides)
    assert error.value.field == field
