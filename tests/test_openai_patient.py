"""The API patient against a real local chat-completions server, through the official openai client."""

import random
import time

import pytest

from grpodx.api import shared_ledger
from grpodx.errors import ConfigError
from grpodx.cases.knowledge import sample_case
from grpodx.patients import OpenAIPatient
from grpodx.cases.names import mentions
from grpodx.patients.openai_patient import LEAK_NOTE
from grpodx.patients.questions import over_budget_line
from tests.fake_openai_server import Scripted, retry_soon

KEY = "sk-test-patient-0123456789"
LATENCY_S, N_EPISODES = 0.25, 16


@pytest.fixture(autouse=True)
def _key_and_clean_ledger(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    shared_ledger().drain()


def _patient(server, **overrides) -> OpenAIPatient:
    args = dict(base_url=server.base_url, timeout=2.0, max_retries=2, max_concurrency=16)
    return OpenAIPatient(**{**args, **overrides})


def _case(kb, index=0):
    return sample_case(kb, kb.conditions[index], random.Random(index), f"c{index}")


def _history(case):
    return [{"role": "patient", "text": case.opening_statement}, {"role": "doctor", "text": "When did it start?"},
            {"role": "patient", "text": "Three days ago."}]


def test_grounded_prompt_holds_the_facts_never_the_disease_and_the_key_travels_only_in_the_header(fake_openai, kb):
    case = _case(kb)
    reply = _patient(fake_openai).reply(case, "Do you have a fever?", _history(case))
    assert reply.text.startswith("It started") and not reply.failed
    request = fake_openai.requests[-1]
    system, *turns = request["messages"]
    assert case.present[0].statement in system["content"] and case.absent[0].statement in system["content"]
    assert not mentions(system["content"], case.diagnosis_names)
    assert [m["role"] for m in turns] == ["user", "assistant", "user"]
    assert turns[-1]["content"] == "Do you have a fever?"
    assert fake_openai.authorizations == [f"Bearer {KEY}"]
    assert KEY not in repr(vars(_patient(fake_openai)))


def test_free_mode_picks_one_disease_per_group_and_plays_it(fake_openai, kb):
    patient = _patient(fake_openai, mode="free")
    drawn = [_case(kb, 0), _case(kb, 1)]
    cases = patient.prepare(drawn)
    assert len(fake_openai.requests) == 2  # one pick per group, shared by its G episodes
    assert all(r["response_format"]["json_schema"]["name"] == "disease_pick" for r in fake_openai.requests)
    assert [c.case_id for c in cases] == ["c0", "c1"]
    for case in cases:
        assert case.hidden_diagnosis == "Influenza" and "flu" in case.aliases
        assert case.opening_statement == "I am a 34-year-old woman. I have a fever and aches all over."
    reply = patient.reply(cases[0], "Any cough?", [{"role": "patient", "text": cases[0].opening_statement}])
    assert not reply.failed and "Influenza" in fake_openai.requests[-1]["messages"][0]["content"]


def test_the_llm_sees_only_the_questions_within_the_budget_and_we_count_them(fake_openai, kb):
    """Issue 11: the count comes from our splitter, not the LLM; questions beyond the budget never
    reach it (in this turn or, from the history, in later ones) and get one line of ours."""
    case = _case(kb)
    doctor = "Thanks. Any fever? Any cough? Any rash? Any nausea? What is the diagnosis?"
    history = [*_history(case), {"role": "doctor", "text": "Pain? Swelling? Itch? Dizzy?"},
               {"role": "patient", "text": "Some pain."}]
    reply = _patient(fake_openai).reply(case, doctor, history)
    turns = fake_openai.requests[-1]["messages"][1:]
    assert turns[-1]["content"] == "Thanks. Any fever? Any cough? Any rash?"
    assert turns[-3]["content"] == "Pain? Swelling? Itch?"
    assert reply.questions == 5 and not reply.failed
    assert reply.text.startswith("It started") and reply.text.endswith(over_budget_line(3))
    within = _patient(fake_openai, max_questions_per_turn=5).reply(case, doctor, [])
    assert fake_openai.requests[-1]["messages"][-1]["content"] == doctor
    assert within.questions == 5 and over_budget_line(5) not in within.text


def test_failed_pick_fails_the_groups_episodes(fake_openai, kb):
    patient = _patient(fake_openai, mode="free", max_retries=0)
    fake_openai.queue(Scripted(content="I pick the flu!"), retry_soon(500))
    cases = patient.prepare([_case(kb, 0), _case(kb, 1)])
    assert [c.hidden_diagnosis for c in cases] == ["", ""]
    replies = patient.reply_batch(cases, ["Any cough?"] * 2, [[], []])
    assert all(r.failed for r in replies)
    assert {"JSON" in r.error or "HTTP 500" in r.error for r in replies} == {True}


def test_a_leaking_reply_is_regenerated(fake_openai, kb):
    case = _case(kb)
    fake_openai.queue(Scripted(f"Honestly I think it is {case.aliases[0]}."), Scripted("My chest feels odd."))
    reply = _patient(fake_openai).reply(case, "What do you think you have?", _history(case))
    assert reply.text == "My chest feels odd." and not reply.failed
    first, second = (r["messages"] for r in fake_openai.requests)
    assert LEAK_NOTE not in first[0]["content"] and second[0]["content"].endswith(LEAK_NOTE)
    assert first[1:] == second[1:]


def test_a_reply_that_keeps_leaking_marks_the_episode_failed_or_is_redacted(fake_openai, kb):
    case = _case(kb)
    leak = Scripted(f"It hurts. I read it is {case.hidden_diagnosis}.")
    fake_openai.queue(leak, leak, leak)
    reply = _patient(fake_openai, leak_retries=2).reply(case, "What is it?", _history(case))
    assert reply.failed and "named the hidden diagnosis 3 times" in reply.error and reply.text == ""
    fake_openai.queue(leak)
    redacted = _patient(fake_openai, leak_retries=0, redact_leaks=True).reply(case, "What is it?", _history(case))
    assert redacted.text == "It hurts." and not redacted.failed


def test_retries_absorb_429_and_500_then_a_persistent_failure_fails_only_its_episode(fake_openai, kb):
    case = _case(kb)
    patient = _patient(fake_openai, max_retries=2, max_concurrency=1)  # one at a time: the script order holds
    fake_openai.queue(retry_soon(429), retry_soon(500))
    assert not patient.reply(case, "Any fever?", _history(case)).failed
    fake_openai.queue(Scripted("Fine."), retry_soon(500), retry_soon(500), retry_soon(500), Scripted("Also fine."))
    replies = patient.reply_batch([case] * 3, ["Q1?", "Q2?", "Q3?"], [_history(case)] * 3)
    assert [r.failed for r in replies] == [False, True, False]
    assert "HTTP 500 after 2 retries" in replies[1].error
    assert shared_ledger().drain()["api/failed_calls"] == 1


def test_timeouts_are_retried_then_fail(fake_openai, kb):
    case = _case(kb)
    patient = _patient(fake_openai, timeout=0.2, max_retries=1)
    fake_openai.queue(Scripted(delay_s=1.0))
    assert not patient.reply(case, "Any fever?", _history(case)).failed  # the retry answers at once
    fake_openai.queue(Scripted(delay_s=1.0), Scripted(delay_s=1.0))
    reply = patient.reply(case, "Any fever?", _history(case))
    assert reply.failed and "timed out" in reply.error


@pytest.mark.parametrize("body", ["not json {", '{"id": "x"}', '{"choices": [{"message": {"content": null}}]}'])
def test_a_malformed_body_fails_the_episode(fake_openai, kb, body):
    case = _case(kb)
    fake_openai.queue(Scripted(raw_body=body))
    reply = _patient(fake_openai).reply(case, "Any fever?", _history(case))
    assert reply.failed and "malformed response" in reply.error


def test_one_turns_replies_are_sent_concurrently(fake_openai, kb):
    """N replies against a server that answers each after L seconds take about L, not N * L."""
    case = _case(kb)
    fake_openai.route = lambda request: Scripted("It aches.", delay_s=LATENCY_S)
    patient = _patient(fake_openai, max_concurrency=N_EPISODES)
    started = time.perf_counter()
    replies = patient.reply_batch([case] * N_EPISODES, ["Any fever?"] * N_EPISODES, [_history(case)] * N_EPISODES)
    elapsed = time.perf_counter() - started
    assert not any(r.failed for r in replies)
    print(f"\n{N_EPISODES} replies at {LATENCY_S}s each: {elapsed:.2f}s = {elapsed / (N_EPISODES * LATENCY_S):.3f} of serial")
    assert elapsed < N_EPISODES * LATENCY_S / 4 and fake_openai.peak_in_flight > N_EPISODES // 2


def test_max_concurrency_bounds_calls_in_flight(fake_openai, kb):
    case = _case(kb)
    fake_openai.route = lambda request: Scripted("It aches.", delay_s=0.1)
    patient = _patient(fake_openai, max_concurrency=3)
    patient.reply_batch([case] * 9, ["Any fever?"] * 9, [_history(case)] * 9)
    assert fake_openai.peak_in_flight == 3


def test_usage_is_summed_per_step_and_priced(fake_openai, kb):
    case = _case(kb)
    patient = _patient(fake_openai)  # the default model, gpt-4o-mini, is in the price table
    patient.reply_batch([case] * 2, ["Any fever?"] * 2, [_history(case)] * 2)
    usage = patient.drain_usage()
    prompt = sum(len(str(m["content"]).split()) for r in fake_openai.requests for m in r["messages"])
    completion = 2 * len("It started three days ago and it hurts when I breathe in.".split())
    assert usage["api/patient_tokens"] == prompt + completion and usage["api/judge_tokens"] == 0
    assert usage["api/cost_usd"] == pytest.approx((prompt * 0.15 + completion * 0.60) / 1e6)
    assert 0 < usage["api/latency_p50"] < 1
    assert patient.drain_usage() == {}  # drained: the next step starts from zero


@pytest.mark.parametrize("overrides, field", [
    ({"max_concurrency": 0}, "model.init_args.patient.init_args.max_concurrency"),
    ({"timeout": 0}, "model.init_args.patient.init_args.timeout"),
    ({"mode": "dream"}, "model.init_args.patient.init_args.mode"),
    ({"base_url": "localhost:8000"}, "model.init_args.patient.init_args.base_url"),
    ({"prices": {"m": {"input": 1}}}, "model.init_args.patient.init_args.prices.m"),
    ({"max_questions_per_turn": 0}, "model.init_args.patient.init_args.max_questions_per_turn"),
])
def test_bad_config_names_the_field(fake_openai, overrides, field):
    with pytest.raises(ConfigError) as error:
        _patient(fake_openai, **overrides)
    assert error.value.field == field


def test_the_key_comes_from_the_environment_or_a_keyless_local_server(monkeypatch, fake_openai, kb):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set") as error:
        _patient(fake_openai)
    assert error.value.field == "model.init_args.patient.init_args.api_key_env"
    with pytest.raises(ConfigError, match="needs a key"):
        OpenAIPatient(api_key_env=None)
    _patient(fake_openai, api_key_env=None).reply(_case(kb), "Any fever?", [])
    assert fake_openai.authorizations == ["Bearer EMPTY"]



def test_calls_in_flight_are_reported_to_watchers(fake_openai, kb):
    seen = []
    shared_ledger().watchers.append(seen.append)
    try:
        fake_openai.route = lambda request: Scripted("Yes.", delay_s=0.2)
        patient = _patient(fake_openai, max_concurrency=4)
        cases = [_case(kb)] * 4
        patient.reply_batch(cases, ["Any fever?"] * 4, [[] for _ in cases])
    finally:
        shared_ledger().watchers.remove(seen.append)
    assert max(seen) >= 2 and seen[-1] == 0
