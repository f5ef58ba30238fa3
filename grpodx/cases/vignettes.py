"""Users' own cases as JSONL vignettes (`data.cases: jsonl:PATH`), one JSON object per line.

    {"diagnosis": "Community-acquired pneumonia", "icd10": "J18.9", "organ_system": "respiratory",
     "aliases": ["pneumonia", "CAP"], "age": 54, "sex": "male",
     "opening_complaint": "I've had a bad cough and a fever for three days.",
     "present": {"fever": "Yes, I've had a fever of 39 for three days.",
                 "productive cough": "Yes, I'm coughing up green phlegm."},
     "absent": ["chest pain", "leg swelling"]}

Required: diagnosis, age (0-120), sex (female/male/F/M/other), opening_complaint (must not name the
diagnosis), present (finding name -> what the patient says, at least one). Optional: icd10,
organ_system (default: the embedded knowledge base's, by name or ICD-10 chapter), aliases, absent
(a list of finding names, or name -> denial sentence), key_findings (default: every present finding),
differential, id. Finding names are what a doctor asks about; when a name is a finding of the
embedded knowledge base (by id or label) its cue words are reused, so questions match it more often.
Blank lines and lines starting with '#' are skipped; a bad line is a ConfigError naming file:line.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from grpodx.cases import Case, Finding
from grpodx.cases.ddxplus.pathology_kb import organ_system_of
from grpodx.cases.ddxplus.release import normalise_icd10
from grpodx.cases.knowledge import KnowledgeBase, embedded_knowledge_base
from grpodx.cases.line_index import json_cases
from grpodx.cases.names import mentions

FIELD = "data.init_args.cases"
REQUIRED = ("diagnosis", "age", "sex", "opening_complaint", "present")
OPTIONAL = ("icd10", "organ_system", "aliases", "absent", "key_findings", "differential", "id")
SEXES = {"female": "female", "f": "female", "male": "male", "m": "male", "other": "other"}


def finding_id(name: str) -> str:
    """'Chest pain' -> 'chest_pain' (ids must be stable across runs for the judge and transcripts)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class _BadField(ValueError):
    def __init__(self, field: str, problem: str):
        super().__init__(f"field {field!r} {problem}")


def _text(raw: dict, key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _BadField(key, "must be a non-empty string")
    return value.strip()


def _names(raw: dict, key: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _BadField(key, "must be a list of non-empty strings")
    return [v.strip() for v in value]


def _finding(name: str, statement: str, kb: KnowledgeBase) -> Finding:
    """The patient's own sentence is a cue too: "coughing up green phlegm" is what a doctor asks about."""
    fid = finding_id(name)
    entry = kb.findings.get(fid) or _by_label(kb).get(name.lower())
    spoken = re.sub(r"^(yes|no)\b[,.!]?\s*", "", statement, flags=re.IGNORECASE) or statement
    cues = (name, *entry.cues, spoken) if entry else (name, spoken)
    return Finding(entry.id if entry else fid, name, tuple(dict.fromkeys(cues)), statement)


@lru_cache(maxsize=4)
def _by_label(kb: KnowledgeBase) -> dict:
    return {e.label.lower(): e for e in reversed(list(kb.findings.values()))}  # the first of a label wins


def vignette_case(raw: object, case_id: str, kb: KnowledgeBase) -> Case:
    """One JSON object -> Case; raises ValueError naming the bad field."""
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    missing = [k for k in REQUIRED if k not in raw]
    unknown = [k for k in raw if k not in REQUIRED + OPTIONAL]
    if missing or unknown:
        raise ValueError(f"missing fields {missing}" if missing else f"unknown fields {unknown}")
    diagnosis, complaint = _text(raw, "diagnosis"), _text(raw, "opening_complaint")
    age, sex = raw["age"], str(raw["sex"]).strip().lower()
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
        raise _BadField("age", f"must be a whole number 0-120, got {age!r}")
    if sex not in SEXES:
        raise _BadField("sex", f"must be one of female/male/F/M/other, got {raw['sex']!r}")
    present = raw["present"]
    if not isinstance(present, dict) or not present or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in present.items()):
        raise _BadField("present", "must map finding names to what the patient says (at least one)")
    absent = raw.get("absent", [])
    if isinstance(absent, list):
        absent = {name: f"No, I haven't noticed any {name.lower()}." for name in _names(raw, "absent")}
    elif not isinstance(absent, dict) or not all(isinstance(v, str) and v.strip() for v in absent.values()):
        raise _BadField("absent", "must be a list of finding names or map names to denials")
    aliases = tuple(_names(raw, "aliases"))
    if mentions(complaint, (diagnosis, *aliases)):
        raise _BadField("opening_complaint", "names the diagnosis; the patient must not reveal it")
    icd10 = normalise_icd10(_text(raw, "icd10")) if raw.get("icd10") else ""
    known = kb.condition(diagnosis)
    organ_system = (_text(raw, "organ_system") if raw.get("organ_system")
                    else known.organ_system if known else organ_system_of(icd10) if icd10 else "unknown")
    present_findings = tuple(_finding(k.strip(), v.strip(), kb) for k, v in present.items())
    ids = {f.label.lower(): f.id for f in present_findings}
    keys = [ids.get(k.lower(), finding_id(k)) for k in _names(raw, "key_findings")] or [f.id for f in present_findings]
    return Case(
        case_id=str(raw.get("id", case_id)), hidden_diagnosis=diagnosis, icd10=icd10, organ_system=organ_system,
        age=age, sex=SEXES[sex], opening_complaint=complaint, present=present_findings,
        absent=tuple(_finding(k.strip(), v.strip(), kb) for k, v in absent.items()),
        key_findings=tuple(keys), aliases=aliases, differential=tuple(_names(raw, "differential")))


def read_vignettes(path: Path | str, kb: KnowledgeBase | None = None) -> list[Case]:
    """Every case of a JSONL file, validated up front (a large file: grpodx.cases.sources reads
    cases one at a time through the same validated, cached index)."""
    count, build = vignette_file(path, kb)
    return [build(i) for i in range(count)]


def vignette_file(path: Path | str, kb: KnowledgeBase | None = None):
    """(count, build) over a JSONL file of vignettes, every line validated once (grpodx.cases.line_index)."""
    kb = kb or embedded_knowledge_base()
    return json_cases(path, "jsonl", lambda raw, case_id: vignette_case(raw, case_id, kb),
                      "the format is in grpodx/cases/vignettes.py and the README", FIELD)
