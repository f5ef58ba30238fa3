"""The environment on a real (tiny, random) model: groups, batching and what each party sees."""

import random

import pytest

from grpodx.doctor import Doctor
from grpodx.environment import DiagnosisEnvironment
from grpodx.judges import OfflineJudge
from grpodx.cases.knowledge import sample_case
from grpodx.patients import OfflinePatient
from grpodx.cases.names import mentions


class RecordingPatient(OfflinePatient):
    """The offline patient, recording exactly what it was shown."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def reply_batch(self, cases, doctor_texts, histories):
        self.seen.extend(zip(doctor_texts, histories))
        return super().reply_batch(cases, doctor_texts, histories)


class CountingDoctor(Doctor):
    """The real doctor, counting its batched sampling calls."""

    def __init__(self, doctor):
        super().__init__(doctor.model, doctor.tokenizer, doctor.config)
        self.batch_sizes = []

    def sample(self, prompts, greedy=False, **cache):
        self.batch_sizes.append(len(prompts))
        return super().sample(prompts, greedy, **cache)


class ScriptedDoctor(CountingDoctor):
    """Real tokenizer, scripted text: checks that reasoning never reaches the patient."""

    def sample(self, prompts, greedy=False, **cache):
        self.batch_sizes.append(len(prompts))
        text = "<reason>SECRET-REASONING maybe the hidden thing</reason> Do you have a fever?<|im_end|>"
        return [self.tokenizer(text, add_special_tokens=False)["input_ids"] for _ in prompts]


@pytest.fixture()
def cases(kb):
    return [sample_case(kb, c, random.Random(i), f"e{i}") for i, c in enumerate(kb.conditions[:2])]


def test_groups_share_the_case_and_each_turn_is_one_batched_call(tiny_doctor, cases):
    doctor = CountingDoctor(tiny_doctor)
    env = DiagnosisEnvironment(OfflinePatient(), OfflineJudge(), max_turns=3)
    episodes, stats = env.run(doctor, cases, group_size=3)
    assert len(episodes) == 6
    for c, case in enumerate(cases):
        assert all(e.case is case and e.group == c for e in episodes[c * 3:(c + 1) * 3])
    assert doctor.batch_sizes[0] == 6 and len(doctor.batch_sizes) <= 3
    assert all(0 <= e.score.reward <= 1 for e in episodes)
    assert stats.doctor_tokens == sum(len(t.completion_ids) for e in episodes for t in e.doctor_turns)
    for e in episodes:
        assert e.num_turns == 3 or e.final_diagnosis is not None
        for turn in e.doctor_turns:  # the loss scores exactly what was sampled
            assert turn.text == tiny_doctor.decode(turn.completion_ids)


def test_doctor_prompts_never_hold_the_diagnosis_and_patient_never_sees_reasoning(tiny_doctor, cases):
    doctor, patient = ScriptedDoctor(tiny_doctor), RecordingPatient()
    episodes, _ = DiagnosisEnvironment(patient, OfflineJudge(), max_turns=3).run(doctor, cases, group_size=2)
    assert patient.seen
    for doctor_text, history in patient.seen:
        assert "SECRET" not in doctor_text and "<reason>" not in doctor_text
        assert all("SECRET" not in m["text"] and "<reason>" not in m["text"] for m in history)
    for e in episodes:
        for t, turn in enumerate(e.doctor_turns):
            prompt = tiny_doctor.tokenizer.decode(turn.prompt_ids).lower()
            assert not mentions(prompt, e.case.diagnosis_names)
            if t > 0:  # earlier reasoning was removed from the doctor's own context
                assert "secret-reasoning" not in prompt
        assert "SECRET" in e.transcript()[1]["reasoning"]  # the judge's view keeps it
    last_prompt = tiny_doctor.tokenizer.decode(episodes[0].doctor_turns[-1].prompt_ids)
    assert "last turn" in last_prompt.lower()


def test_merged_sampling_restores_the_exact_base_weights_and_matches_unmerged(tiny_model_dir):
    import torch

    from grpodx.doctor import DoctorConfig
    from grpodx.doctor.loading import load_doctor_model

    config = DoctorConfig(model=tiny_model_dir, max_new_tokens=6, lora_rank=4, dtype="bfloat16")
    model, tokenizer = load_doctor_model(config)
    torch.manual_seed(0)  # fixed weights: greedy picks of bf16 merged/unmerged agree for these
    for name, param in model.named_parameters():  # a non-zero adapter, as after training
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.5)
    doctor = Doctor(model, tokenizer, config)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    prompt = [doctor.prompt_ids([{"role": "user", "content": "I have a cough."}])]
    modules_before = [(n, type(m)) for n, m in model.named_modules()]
    merged = doctor.sample(prompt, greedy=True)
    assert [(n, type(m)) for n, m in model.named_modules()] == modules_before  # LoRA wrappers are back
    for name, param in model.named_parameters():
        assert torch.equal(param, before[name]), name
    doctor.config.merge_for_rollout = False
    assert doctor.sample(prompt, greedy=True)[0][:2] == merged[0][:2]


def test_cross_turn_kv_cache_gives_the_same_greedy_episodes_with_less_prefill(tiny_doctor, cases):
    """Re-using each conversation's cache must not change what the doctor says, only the work."""
    from dataclasses import replace

    env = DiagnosisEnvironment(OfflinePatient(), OfflineJudge(), max_turns=4)
    runs = {}
    for reuse in (True, False):
        doctor = Doctor(tiny_doctor.model, tiny_doctor.tokenizer, replace(tiny_doctor.config, reuse_kv_cache=reuse))
        runs[reuse] = env.run(doctor, cases, group_size=2, greedy=True)
    (cached, cached_stats), (plain, plain_stats) = runs[True], runs[False]
    assert [[t.completion_ids for t in e.doctor_turns] for e in cached] == \
        [[t.completion_ids for t in e.doctor_turns] for e in plain]
    assert [[t.prompt_ids for t in e.doctor_turns] for e in cached] == [[t.prompt_ids for t in e.doctor_turns] for e in plain]
    assert max(e.num_turns for e in cached) > 1
    assert cached_stats.prompt_tokens_reused > 0 and plain_stats.prompt_tokens_reused == 0
    all_prompt_tokens = sum(len(t.prompt_ids) for e in cached for t in e.doctor_turns)
    assert cached_stats.prompt_tokens_encoded + cached_stats.prompt_tokens_reused == all_prompt_tokens
    assert cached_stats.prompt_tokens_encoded < all_prompt_tokens / 2


def test_a_stop_request_ends_sampling_at_once_and_interrupts_the_rollout(tiny_doctor, cases):
    """Preemption (callbacks.Preemption): generation stops at the next token, the rollout raises
    before any episode is scored, so a partial rollout never reaches the update."""
    from grpodx.errors import RolloutInterrupted

    prompt = tiny_doctor.prompt_ids([{"role": "user", "content": "I have a cough."}])
    free = tiny_doctor.sample([prompt, prompt], greedy=True)
    stopped = tiny_doctor.sample([prompt, prompt], greedy=True, stop=lambda: True)
    assert max(map(len, free)) > 1 and [len(c) for c in stopped] == [1, 1]
    env = DiagnosisEnvironment(OfflinePatient(), OfflineJudge(), max_turns=3)
    asked = iter([False, False, True])  # a SIGTERM arrives after the first doctor turn
    env.should_stop = lambda: next(asked, True)
    with pytest.raises(RolloutInterrupted):
        env.run(tiny_doctor, cases, group_size=2, greedy=True)


def test_slot_utilisation_counts_rows_that_wait_for_the_longest_reply():
    from grpodx.environment import RolloutStats

    stats = RolloutStats(doctor_tokens=10 + 2 + 6, turn_batch_sizes=[2, 1], turn_decode_steps=[10, 6])
    assert stats.slot_utilisation == pytest.approx(18 / (10 * 2 + 6 * 1))
