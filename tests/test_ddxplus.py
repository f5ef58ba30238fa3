"""DDXPlus loading, case building, sampling and the ddxplus/jsonl case sources.

Reads the shared copy of DDXPlus (skipped when absent); malformed inputs are written to tmp_path.
"""

from __future__ import annotations

import ast
import csv
import json
import random

import pytest

from grpodx.cases.sources import ReplayedCases, case_source, ddxplus_cases
from grpodx.cases.ddxplus import CaseBuilder, PatientFile, load_pathology_kb, load_release, locate, sample_record
from grpodx.cases.ddxplus.phrasing import place
from grpodx.cases.ddxplus.records import check_record
from grpodx.errors import ConfigError
from grpodx.cases.names import mentions
from grpodx.cases.vignettes import read_vignettes


@pytest.fixture(scope="module")
def data():
    from tests.conftest import SHARED_DDXPLUS

    if not SHARED_DDXPLUS.is_dir():
        pytest.skip(f"DDXPlus data not found at {SHARED_DDXPLUS} (it lives in ../shared beside the checkout)")
    release = load_release(SHARED_DDXPLUS)
    kb = load_pathology_kb(SHARED_DDXPLUS / "kb_en.json", release)
    patients = PatientFile(SHARED_DDXPLUS / "dev_patients.csv", release)
    return release, kb, patients, CaseBuilder(release, kb)


def test_release_is_read_and_icd10_normalised(ddxplus_dir, data):
    release, kb, _, _ = data
    assert len(release.evidences) == 223 and len(release.pathologies) == 49
    assert release.pathologies["Pneumonia"].icd10 == "J17"
    assert release.pathologies["Cluster headache"].icd10 == "G44.009"
    assert release.evidences["E_56"].parent == "E_53" and release.evidences["E_91"].parent is None
    assert release.evidences["E_55"].values["V_29"] == "lower chest"
    assert kb["Pneumonia"].icd10 == "J17" and kb["Pneumonia"].organ_system == "respiratory"


def test_records_match_the_csv(ddxplus_dir, data):
    _, _, patients, _ = data
    with (ddxplus_dir / "dev_patients.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(patients) == len(rows) == 600
    for i in (0, 1, 299, 599):
        record, row = patients.record(i), rows[i]
        assert record.age == int(row["AGE"]) and record.sex == {"F": "female", "M": "male"}[row["SEX"]]
        assert record.pathology == row["PATHOLOGY"] and record.initial_evidence == row["INITIAL_EVIDENCE"]
        codes = {e.split("_@_")[0] for e in ast.literal_eval(row["EVIDENCES"])}
        assert set(record.evidences) == codes
        differential = sorted(ast.literal_eval(row["DIFFERENTIAL_DIAGNOSIS"]), key=lambda p: -p[1])
        assert [n for n, _ in record.differential] == [n for n, _ in differential]


def test_cases_speak_for_the_record(ddxplus_dir, data):
    release, _, patients, builder = data
    for i in range(0, 600, 7):
        record = patients.record(i)
        case = builder.case(record, f"c{i}")
        names = case.diagnosis_names
        assert case.icd10 == release.pathologies[record.pathology].icd10
        assert not mentions(case.opening_statement, names), case.opening_statement
        assert case.differential == tuple(n for n, _ in record.differential)
        present = {f.id for f in case.present}
        for code, values in record.evidences.items():
            evidence = release.evidences[code]
            positive = evidence.data_type == "B" or any(v != evidence.default_value for v in values)
            assert (code in present) == positive
            for value in values:  # every recorded value is spoken in the patient's sentence
                finding = next(f for f in case.present + case.absent if f.id == code)
                if value != evidence.default_value and evidence.data_type == "M":
                    assert place(evidence.values[value]) in finding.statement
        relevant = set(release.pathologies[record.pathology].evidences)
        assert {f.id for f in case.absent} <= relevant | set(record.evidences)
        assert set(case.key_findings) <= present
        assert all(f.id.startswith("E_") and f.statement for f in case.present + case.absent)
        assert len(case.vocabulary) == 223


def test_aliases_are_diagnoses_not_symptoms(ddxplus_dir, data):
    _, _, _, builder = data
    assert "sore throat" not in builder.aliases("Viral pharyngitis")
    assert "pharyngitis" in builder.aliases("Viral pharyngitis")
    assert "laryngospasm" in builder.aliases("Larygospasm")
    assert "viremia" not in builder.aliases("URTI")


def test_sampler_draws_valid_reproducible_patients(ddxplus_dir, data):
    release, kb, _, builder = data
    records = [sample_record(kb, release, random.Random(i), f"s{i}") for i in range(200)]
    assert records[5] == sample_record(kb, release, random.Random(5), "s5")
    for record in records:
        check_record(record, release)
        evidence = release.evidences[record.initial_evidence]
        assert evidence.data_type == "B" and not evidence.is_antecedent
        for code in record.evidences:  # follow-ups only with their parent question
            parent = release.evidences[code].parent
            assert parent not in release.evidences or parent in record.evidences
        case = builder.case(record, "x")
        assert not mentions(case.opening_statement, case.diagnosis_names)
    assert len({r.pathology for r in records}) > 25


def test_replayed_source_splits_and_cycles(ddxplus_dir):
    source = case_source(f"ddxplus:{ddxplus_dir}")
    assert isinstance(source, ReplayedCases) and len(source.held_out_rows) == 60
    held = source.held_out(60, seed=1)
    assert [c.case_id for c in held] == [c.case_id for c in source.held_out(60, seed=2)]  # fixed split
    first_pass, second_pass = source._pass_order(1, 0), source._pass_order(1, 1)
    assert len(set(first_pass)) == 540 and not set(first_pass) & set(source.held_out_rows)
    assert set(second_pass) == set(first_pass) and second_pass != first_pass != source._pass_order(2, 0)
    assert source.train_case(540 + 3, seed=1).case_id == f"ddxplus-dev_patients-{second_pass[3]}"
    assert source.train_case(3, seed=1) == case_source(f"ddxplus:{ddxplus_dir / 'dev_patients.csv'}").train_case(3, 1)


def test_sampled_source(ddxplus_dir):
    source = case_source(f"ddxplus-sample:{ddxplus_dir}")
    case = source.train_case(0, seed=1)
    assert case == source.train_case(0, seed=1) and case.present and case.hidden_diagnosis
    assert {c.case_id for c in source.held_out(4, 1)}.isdisjoint({source.train_case(i, 1).case_id for i in range(4)})


def test_bad_sources_are_config_errors(tmp_path, ddxplus_dir):
    for reference in ("ddxplus:", "ddxplus:/no/such/folder", "nonsense", f"ddxplus-sample:{tmp_path}"):
        with pytest.raises(ConfigError):
            case_source(reference)
    (tmp_path / "release_evidences.json").write_text("{not json")
    with pytest.raises(ConfigError, match="release_evidences.json"):
        load_release(tmp_path)


HEADER = "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE\n"
GOOD = '30,"[[\'Pneumonia\', 0.6], [\'Bronchitis\', 0.4]]",F,Pneumonia,"[\'E_91\', \'E_201\']",E_91\n'


@pytest.mark.parametrize("bad_row, problem", [
    ('abc,"[]",F,Pneumonia,"[\'E_91\']",E_91\n', "AGE"),
    ('30,"[]",X,Pneumonia,"[\'E_91\']",E_91\n', "SEX"),
    ('30,"[]",F,Flu of doom,"[\'E_91\']",E_91\n', "PATHOLOGY"),
    ('30,"[]",F,Pneumonia,"[\'E_9999\']",E_9999\n', "unknown evidence"),
    ('30,"[]",F,Pneumonia,"[\'E_91_@_V_1\']",E_91\n', "value to yes/no"),
    ('30,"[]",F,Pneumonia,"[\'E_56_@_99\']",E_56\n', "unknown values"),
    ('30,"[]",F,Pneumonia,"[\'E_91\']",E_201\n', "INITIAL_EVIDENCE"),
    ('30,"[]",F,Pneumonia\n', "columns"),
])
def test_malformed_csv_rows_name_file_and_line(tmp_path, ddxplus_dir, bad_row, problem):
    path = tmp_path / "patients.csv"
    path.write_text(HEADER + GOOD + bad_row)
    with pytest.raises(ConfigError, match=rf"patients.csv:3: .*{problem}") as error:
        ddxplus_cases(str(ddxplus_dir), str(path))
    assert error.value.field == "data.init_args.cases"


def test_csv_header_is_checked(tmp_path, ddxplus_dir):
    path = tmp_path / "patients.csv"
    path.write_text("AGE,SEX\n30,F\n")
    with pytest.raises(ConfigError, match="patients.csv:1: header"):
        ddxplus_cases(str(ddxplus_dir), str(path))


def test_locate_accepts_folder_or_csv(ddxplus_dir):
    assert locate(ddxplus_dir).patients == ddxplus_dir / "dev_patients.csv"
    assert locate(ddxplus_dir / "dev_patients.csv").folder == ddxplus_dir


VIGNETTE = {"diagnosis": "Community-acquired pneumonia", "icd10": "j18.9", "aliases": ["pneumonia"], "age": 54,
            "sex": "male", "opening_complaint": "I've had a bad cough and a fever for three days.",
            "present": {"fever": "Yes, I've had a fever of 39 for three days.",
                        "productive cough": "Yes, I'm coughing up green phlegm."},
            "absent": ["chest pain", "leg swelling"]}


def test_jsonl_vignettes(tmp_path):
    path = tmp_path / "cases.jsonl"
    second = dict(VIGNETTE, diagnosis="Migraine", icd10="G43.909", aliases=[], opening_complaint="My head hurts.")
    path.write_text("# my cases\n" + json.dumps(VIGNETTE) + "\n\n" + json.dumps(second) + "\n")
    cases = read_vignettes(path)
    case = cases[0]
    assert case.icd10 == "J18.9" and case.organ_system == "respiratory" and case.sex == "male"
    assert {f.label for f in case.present} == {"fever", "productive cough"}
    assert {f.label for f in case.absent} == {"chest pain", "leg swelling"}
    assert "fever" in {f.id for f in case.present}  # a knowledge-base finding keeps its id and cues
    source = case_source(f"jsonl:{path}")
    assert {c.hidden_diagnosis for c in source.held_out(5, 0)} | {source.train_case(0, 0).hidden_diagnosis} == {
        "Community-acquired pneumonia", "Migraine"}


@pytest.mark.parametrize("change, problem", [
    ({"age": "old"}, "'age'"), ({"sex": "robot"}, "'sex'"), ({"present": {}}, "'present'"),
    ({"absent": "cough"}, "'absent'"), ({"opening_complaint": "I think I have pneumonia."}, "'opening_complaint'"),
    ({"diagnosis": ""}, "'diagnosis'"), ({"colour": "blue"}, "unknown fields"), (None, "missing fields"),
])
def test_malformed_jsonl_rows_name_file_line_and_field(tmp_path, change, problem):
    row = {k: v for k, v in VIGNETTE.items() if k != "age"} if change is None else dict(VIGNETTE, **change)
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(VIGNETTE) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(ConfigError, match=rf"cases.jsonl:2: .*{problem}"):
        read_vignettes(path)


def test_jsonl_bad_json_line(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(VIGNETTE) + "\n{oops\n")
    with pytest.raises(ConfigError, match="cases.jsonl:2"):
        read_vignettes(path)
