"""AgentClinic OSCE records (`agentclinic:PATH`): read as published, told by the offline patient in
the record's words, examinations and tests answered from the record, evaluated like the paper.
The records in tests/data are written for these tests in AgentClinic's format (no AgentClinic data
ships here), with the awkward parts: nested results, a symptom list written as one string, an
empty symptom object, a history given as a list, ages as a range or in weeks, missing sections."""

import json

import pytest

from grpodx.cases.agentclinic import read_agentclinic
from grpodx.cases.sources import case_source
from grpodx.environment import DiagnosisEnvironment
from grpodx.episode import DoctorTurn, Episode
from grpodx.errors import ConfigError
from grpodx.judges import OfflineJudge
from grpodx.measurements import answer, route
from grpodx.patients import OfflinePatient
from tests.conftest import ROOT

SAMPLE = ROOT / "tests" / "data" / "agentclinic_sample.jsonl"


@pytest.fixture(scope="module")
def cases():
    return read_agentclinic(SAMPLE)


def test_every_record_loads_with_its_people_findings_and_record(cases):
    meningitis, pyloric, pancreas, newborn = cases
    assert [c.hidden_diagnosis for c in cases] == ["Bacterial meningitis (Neisseria meningitidis)",
                                                    "Hypertrophic pyloric stenosis", "Pancreatic adenocarcinoma",
                                                    "Hemolytic disease of the newborn"]
    assert (meningitis.age, meningitis.sex) == (24, "male") and (pancreas.age, pancreas.sex) == (62, "female")
    assert (pyloric.age, newborn.age) == (0, 0)
    assert meningitis.opening_statement == "I am a 24-year-old male. I have severe headache."
    assert pyloric.opening_statement.startswith("I am the parent of a 3-week-old boy. My child has projectile")
    # symptoms (a "No X" secondary symptom is an absence), history and denials
    statements = {f.label: f.statement for f in meningitis.present}
    assert statements["Neck stiffness"] == "Yes, I have neck stiffness."
    assert "I notice that bright light hurts my eyes." in statements.values()
    assert {"rash", "cough", "chest pain", "diarrhea"} <= {f.label for f in meningitis.absent}
    assert {f.label for f in pancreas.present} == {"Painless jaundice", "Weight loss", "dark urine"}
    assert meningitis.key_findings[:3] == ("headache", "fever", "neck_stiffness")  # KB findings by their words
    assert pyloric.key_findings == tuple(f.id for f in pyloric.present)  # no symptom object: the history counts
    # the record's examination and tests, nested keys flattened; never findings of the patient
    assert ("Neurological Examination / Kernig Sign", "Positive") in meningitis.examinations
    assert ("Lumbar Puncture / CSF Analysis / Glucose", "Low") in meningitis.tests
    assert pancreas.examinations == () and ("CA 19-9", "Elevated") in pancreas.tests
    assert not any("diplococci" in f.statement.lower() for f in meningitis.present)
    # free-text names: the name, its parenthesis, initials
    assert {"Bacterial meningitis", "Neisseria meningitidis"} <= set(meningitis.aliases)
    assert "HPS" in pyloric.aliases


def test_source_holds_out_a_fixed_slice(cases):
    source = case_source(f"agentclinic:{SAMPLE}")
    held_out = source.held_out(10, seed=0)
    assert len(held_out) == 1 and held_out == source.held_out(10, seed=7)
    assert {source.train_case(i, 0).case_id for i in range(6)} == {c.case_id for c in cases} - {held_out[0].case_id}


@pytest.mark.parametrize("record, field", [
    ({"OSCE_Examination": {"Patient_Actor": {"Demographics": "30-year-old man"}, "Correct_Diagnosis": "Gout"}},
     "has no symptoms or history"),
    ({"OSCE_Examination": {"Patient_Actor": {"Symptoms": {"Primary_Symptom": "Toe pain"}}}}, "Correct_Diagnosis"),
    ({"OSCE_Examination": {"Patient_Actor": "a man with toe pain", "Correct_Diagnosis": "Gout"}}, "Patient_Actor"),
    ({"question": "What is shown in this image?", "image_url": "x.png"}, "OSCE_Examination"),
])
def test_a_bad_record_is_one_line_naming_file_line_and_field(tmp_path, record, field):
    path = tmp_path / "cases.jsonl"
    good = SAMPLE.read_text().splitlines()[0]
    path.write_text(good + "\n" + json.dumps(record) + "\n")
    with pytest.raises(ConfigError) as error:
        read_agentclinic(path)
    message = str(error.value)
    assert f"{path}:2:" in message and field in message and "\n" not in message


def test_the_offline_patient_tells_the_record_never_the_diagnosis(cases):
    patient = OfflinePatient()
    meningitis = cases[0]
    stiff = patient.reply(meningitis, "Is your neck stiff?", [])
    assert "neck stiffness" in stiff.text.lower() and any(m.present for m in stiff.matched)
    rash = patient.reply(meningitis, "Have you noticed a rash?", [])
    assert rash.text.startswith("No") and any(m.present is False for m in rash.matched)
    for case in cases:
        for question in ("What do you think you have?", "Tell me about your symptoms?", "Any other history?",
                         "What did the lumbar puncture show?"):
            text = patient.reply(case, question, []).text.lower()
            assert not any(name.lower() in text for name in case.diagnosis_names), (case.case_id, question, text)
            assert "diplococci" not in text and "pylorus" not in text  # results are never the patient's


def test_examination_and_test_requests_return_the_records_values(cases):
    meningitis, pyloric, _, _ = cases

    def said(case, text):
        return answer(case, route(text, 3), 3).text

    assert "Acetylcholine" not in said(meningitis, "Request test: CSF glucose")
    assert said(meningitis, "Request test: CSF glucose") == "CSF glucose - Lumbar Puncture / CSF Analysis / Glucose: Low."
    assert "Kernig Sign: Positive" in said(meningitis, "Request exam: Kernig sign")
    assert "Olive-shaped mass" in said(pyloric, "Can I palpate his abdomen?")
    assert "Thickened, elongated pylorus" in said(pyloric, "Could we order an abdominal ultrasound?")
    assert said(meningitis, "Request test: CSF lactate") == "CSF lactate: normal."  # recorded test, value not
    assert said(meningitis, "Request test: Chest X-ray") == "Chest X-ray: not available."
    kb_case = case_source("kb").train_case(0, 0)
    assert said(kb_case, "Request test: Chest X-ray") == "Chest X-ray: not available."  # no record: never made up
    # questions to the patient are not requests; requests count against the turn's budget
    assert route("Have you had an X-ray before? Any fever?", 3).requests == ()
    routed = route("Request test: CSF glucose. Any rash? Any cough? Any fever?", 3)
    assert (routed.requests, routed.patient_text, routed.dropped) == (("Request test: CSF glucose.",),
                                                                      "Any rash? Any cough?", 1)


class RequestingDoctor:
    """Asks for a test and a symptom, then names the diagnosis (a scripted doctor for the environment)."""

    turns = ["<reason>check CSF</reason>Request test: CSF glucose. Is your neck stiff?",
             "<reason>meningitis</reason>Final diagnosis: Bacterial meningitis"]

    def prompt_ids(self, messages):
        self.last_messages = messages
        return [len(messages)]

    def sample(self, prompts, greedy=False, **cache):
        return [[len(self.turns_taken())]] * len(prompts)

    def turns_taken(self):
        return [m for m in self.last_messages if m["role"] == "assistant"]

    def decode(self, ids):
        return self.turns[ids[0]]

    def turn_cache(self):
        return None


def test_results_reach_the_doctor_never_the_patient_and_count_as_tests(cases):
    seen = []

    class RecordingPatient(OfflinePatient):
        def reply_batch(self, cases_, texts, histories):
            seen.extend(texts)
            seen.extend(json.dumps(h) for h in histories)
            return super().reply_batch(cases_, texts, histories)

    doctor = RequestingDoctor()
    environment = DiagnosisEnvironment(RecordingPatient(), OfflineJudge(), max_turns=3)
    episodes, _ = environment.run(doctor, [cases[0]], group_size=1, greedy=True)
    episode: Episode = episodes[0]
    assert episode.final_diagnosis == "Bacterial meningitis" and episode.tests_requested == 1
    assert episode.score.diagnosis_level == "exact"
    assert seen and not any("Low" in s or "Results" in s or "CSF" in s for s in seen)  # the patient never sees them
    doctor_view = doctor.last_messages[-1]["content"]  # the reply the doctor read before its last turn
    assert "neck stiffness" in doctor_view.lower() and "[Results] CSF glucose" in doctor_view
    roles = [t["role"] for t in episode.transcript()]
    assert roles == ["patient", "doctor", "patient", "results", "doctor"]


def test_metrics_count_tests(cases):
    from grpodx.episode_metrics import episode_values
    from grpodx.episode import MeasurementReply, PatientReply, Score

    episode = Episode(cases[0], group=0)
    episode.doctor_turns.append(DoctorTurn([], [], "", "Request test: CSF glucose.", "", True))
    episode.patient_replies.append(PatientReply(""))
    episode.measurements.append(MeasurementReply("CSF glucose - Low.", tests=1))
    episode.score = Score(0.1, {"diagnosis": 0.0})
    assert episode_values(episode)["tests"] == 1.0


def test_evaluate_reports_accuracy_turns_questions_and_tests_on_agentclinic(tiny_model_dir, tmp_path):
    from grpodx.evaluate import main

    out = tmp_path / "report"
    main(["--config", "configs/default.yaml", "--model.doctor.model", tiny_model_dir, "--model.doctor.dtype", "float32",
          "--model.doctor.max_new_tokens", "6", "--model.doctor.lora_rank", "4", "--model.doctor.lora_alpha", "8",
          "--model.max_turns", "2", "--data.cases", f"agentclinic:{SAMPLE}", "--data.val_size", "1",
          "--out", str(out)])
    metrics = json.loads((out / "metrics.json").read_text())
    values = next(iter(metrics["policies"].values()))
    assert {"top1", "turns", "questions", "tests"} <= values.keys() and values["episodes"] == 1
    assert metrics["context"]["cases"].startswith("agentclinic:")
    summary = (out / "summary.md").read_text()
    assert "examinations and tests asked for" in summary
    assert "- held-out coverage: 1 conditions across 1 organ systems: " in summary
