"""Expert demonstrations: the doctor's format, answers the patient really gave, training cases only."""

import json
import random
import re
import subprocess
import sys

import pytest

from grpodx.demonstration_questions import DDXPLUS_QUESTIONS, QuestionBank
from grpodx.demonstrations import (Demonstration, BayesPlayer, compose, read_demonstrations, bayes_doctor,
                                   token_budget)
from grpodx.dialogue import differential, final_diagnoses, split_reasoning
from grpodx.errors import ConfigError
from grpodx.judges import OfflineJudge
from grpodx.cases.knowledge import embedded_knowledge_base
from grpodx.patients import OfflinePatient
from grpodx.patients.offline import questions_in
from tests.conftest import ROOT


def _play(reference: str, n: int, tiny_model_dir: str, seed: int = 0):
    source, doctor, bank = bayes_doctor(reference)
    player = BayesPlayer(doctor, bank, OfflinePatient(), OfflineJudge(), fits=token_budget(tiny_model_dir, 64))
    cases = [source.train_case(i, seed) for i in range(n)]
    return source, player, cases, player.play(cases, reference, random.Random(seed))


def _assert_doctor_format(demonstrations, cases, patient, max_turns=5):
    for demonstration, case in zip(demonstrations, cases):
        assert len(demonstration.turns) == max_turns and demonstration.turns[-1].last_turn
        for turn in demonstration.turns:
            split = split_reasoning(turn.text)
            assert split.well_formed, turn.text
        for turn in demonstration.turns[:-1]:
            visible = split_reasoning(turn.text).visible_text
            assert 1 <= len(questions_in(visible)) <= 3 and not final_diagnoses(visible), visible
            assert len(turn.asked) == len(questions_in(visible))
            # the patient's matcher maps each question to the finding it was written for
            found = patient.matcher.match(questions_in(visible), [patient.candidates(case)] * len(turn.asked))
            assert [hits[0].finding.id for hits in found] == list(turn.asked), visible
        last = split_reasoning(demonstration.turns[-1].text).visible_text
        assert final_diagnoses(last) == [demonstration.final_diagnosis]
        assert len(differential(last)) == 3 and differential(last)[0] == demonstration.final_diagnosis
        assert not questions_in(last)


def test_kb_demonstrations_are_in_the_doctor_format(tiny_model_dir):
    source, player, cases, demonstrations = _play("kb", 6, tiny_model_dir)
    _assert_doctor_format(demonstrations, cases, player.patient)
    fits = token_budget(tiny_model_dir, 64)
    assert all(fits(t.text) for d in demonstrations for t in d.turns)
    assert all(d.case_id.startswith("kb-train-") for d in demonstrations)
    # the reply in each turn is the patient's own answer to that turn's visible text
    replies = player.patient.reply_batch(cases, [split_reasoning(d.turns[0].text).visible_text for d in demonstrations],
                                         [[] for _ in cases])
    assert [r.text for r in replies] == [d.turns[0].reply for d in demonstrations]
    assert player.stats.probes > 0 and player.stats.misunderstood_rate < 0.1


@pytest.mark.slow  # 12 DDXPlus episodes with the probes: ~5-17 s
def test_ddxplus_demonstrations_use_training_rows_and_many_wordings(ddxplus_dir, tiny_model_dir):
    reference = f"ddxplus:{ddxplus_dir / 'dev_patients.csv'}"
    source, player, cases, demonstrations = _play(reference, 12, tiny_model_dir)
    _assert_doctor_format(demonstrations, cases, player.patient)
    held_out = {c.case_id for c in source.held_out(1000, 0)}
    assert not held_out & {d.case_id for d in demonstrations}
    asked = [(code, q) for d in demonstrations for t in d.turns[:-1]
             for code, q in zip(t.asked, questions_in(split_reasoning(t.text).visible_text))]
    release = {c: e for c, e in player.doctor.questions.items()}
    assert sum(q != release[code] for code, q in asked) > len(asked) / 2  # mostly not the release wording
    assert sum(d.top1 for d in demonstrations) / len(demonstrations) > 0.3


def _normalised(question: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", question.lower()).strip()


def test_no_wording_comes_from_the_held_out_paraphrase_sets():
    held_out = {_normalised(json.loads(line)["question"])
                for path in sorted((ROOT / "tests" / "data").glob("ddxplus_paraphrases_holdout*.jsonl"))
                for line in path.read_text().splitlines() if line.strip()}
    assert len(held_out) > 400
    ours = [q for qs in DDXPLUS_QUESTIONS.values() for q in qs]
    ours += [q for qs in QuestionBank.for_knowledge_base(embedded_knowledge_base()).wordings.values() for q in qs]
    assert not {_normalised(q) for q in ours} & held_out
    assert all(len(set(qs)) >= 3 for qs in DDXPLUS_QUESTIONS.values())


def test_compose_drops_questions_then_shortens_reasoning():
    fits = lambda text: len(text) <= 60  # noqa: E731
    text, kept = compose(["a long reason " * 3, "short"], ["Q1 is here?", "Q2 is here?", "Q3 is here?"], " ", fits)
    assert kept == 3 and text.startswith("<reason>short</reason>")
    text, kept = compose(["r"], ["Q1 is a long one?" * 2, "Q2?"], " ", lambda t: len(t) <= 40)
    assert kept == 1


@pytest.mark.slow  # a subprocess loads a model
def test_command_writes_jsonl_and_reports_top1(tmp_path, tiny_model_dir):
    out = tmp_path / "demos.jsonl"
    result = subprocess.run([sys.executable, "-m", "grpodx.demonstrations", "--cases", "kb", "--n", "4", "--out",
                             str(out), "--seed", "3", "--model", tiny_model_dir],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    demonstrations = read_demonstrations(out)
    assert summary["episodes"] == len(demonstrations) == 4
    assert summary["top1"] == sum(d.top1 for d in demonstrations) / 4
    assert Demonstration.from_json(demonstrations[0].to_json()) == demonstrations[0]


def test_jsonl_source_and_bad_files_are_one_line(tmp_path, capsys):
    from grpodx.demonstrations import main

    with pytest.raises(SystemExit) as exit_:
        main(["--cases", f"jsonl:{tmp_path}/x.jsonl", "--n", "2", "--out", str(tmp_path / "o.jsonl")])
    assert exit_.value.code == 2 and capsys.readouterr().err.strip().startswith("error: data.init_args.cases")
    with pytest.raises(ConfigError, match="does not exist"):
        read_demonstrations(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"case_id": "x"}\n')
    with pytest.raises(ConfigError, match="bad.jsonl:1"):
        read_demonstrations(bad)


def test_bayes_doctor_needs_a_knowledge_base(tmp_path):
    vignette = ('{"diagnosis": "Gout", "age": 50, "sex": "male", "opening_complaint": "My big toe hurts.", '
                '"present": {"toe pain": "Yes."}}\n')
    (tmp_path / "cases.jsonl").write_text(vignette * 3)
    with pytest.raises(ConfigError, match="no knowledge base"):
        bayes_doctor(f"jsonl:{tmp_path / 'cases.jsonl'}")
