"""A large case file is validated once: later opens read its cached index, a changed file is
validated again, and a bad row is still one line naming FILE:LINE."""

import shutil

import pytest

from grpodx.cases.ddxplus import PatientFile, load_release
from grpodx.cases.ddxplus import records
from grpodx.cases.sources import case_source
from grpodx.errors import ConfigError


@pytest.fixture()
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRPODX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "line-index"


def test_a_seen_patients_file_opens_without_reading_a_row_and_a_changed_one_is_checked_again(
        ddxplus_dir, tmp_path, own_cache, monkeypatch):
    release = load_release(ddxplus_dir)
    copy = tmp_path / "patients.csv"
    shutil.copy(ddxplus_dir / "dev_patients.csv", copy)
    first = PatientFile(copy, release)
    assert len(first) == 600 and len(list(own_cache.glob("ddxplus-*.offsets"))) == 1

    def no_reading(*args, **kwargs):
        raise AssertionError("a cached file was validated again")

    monkeypatch.setattr(records._FastCheck, "accepts", no_reading)
    again = PatientFile(copy, release)
    assert len(again) == 600 and again.record(599) == first.record(599)
    monkeypatch.undo()
    monkeypatch.setenv("GRPODX_CACHE", str(own_cache.parent))
    with copy.open("a") as handle:  # changed: a new key, so it is validated, and the bad row found
        handle.write('30,"[]",X,Anemia,"[\'E_1\']",E_1\n')
    with pytest.raises(ConfigError, match=r"patients.csv:602: SEX must be F or M"):
        PatientFile(copy, release)


def test_jsonl_sources_validate_once_and_read_cases_on_demand(tmp_path, own_cache, monkeypatch):
    from grpodx.cases import vignettes

    line = ('{"diagnosis": "Migraine", "age": 30, "sex": "F", "opening_complaint": "My head hurts.", '
            '"present": {"headache": "Yes, one side throbs."}}\n')
    path = tmp_path / "cases.jsonl"
    path.write_text("# my cases\n" + line * 40)
    source = case_source(f"jsonl:{path}")
    held_out = source.held_out(10, 0)
    assert len(held_out) == 4 and held_out[0].case_id.startswith("cases-")
    calls = []
    original = vignettes.vignette_case
    monkeypatch.setattr(vignettes, "vignette_case", lambda *a: calls.append(1) or original(*a))
    again = case_source(f"jsonl:{path}")
    assert again.held_out(10, 0) == held_out and len(calls) == 4  # only the 4 cases asked for were parsed
