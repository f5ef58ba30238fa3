"""The embedded knowledge base: conditions, their findings, and the patient's words for them.

Written by the project from general medical knowledge (not from any dataset); it grounds the
offline patient, the offline judge's partial credit and the sampled training cases.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grpodx.cases.case import Case, Finding
from grpodx.cases.names import normalise_name

KNOWLEDGE_DIR = Path(__file__).parent


@dataclass(frozen=True)
class FindingEntry:
    """A finding of the vocabulary: the doctor's cue words and the patient's yes/no sentences."""

    id: str
    label: str
    cues: tuple[str, ...]
    present: str
    absent: str


@dataclass(frozen=True)
class Condition:
    """One condition: its codes, names and the rough frequency of each finding."""

    name: str
    icd10: str
    organ_system: str
    aliases: tuple[str, ...]
    age_range: tuple[int, int]
    sex: str
    opening_complaint: str
    frequencies: dict[str, float]
    details: dict[str, str]
    key_findings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """Conditions plus the shared finding vocabulary."""

    conditions: tuple[Condition, ...]
    findings: dict[str, FindingEntry]

    def condition(self, name: str) -> Condition | None:
        """The condition whose name or alias equals `name` after normalisation."""
        return self._by_name().get(normalise_name(name))

    def _by_name(self) -> dict[str, Condition]:
        return _name_index(self)


@lru_cache(maxsize=None)
def _name_index(kb: KnowledgeBase) -> dict[str, Condition]:
    index = {}
    for condition in kb.conditions:
        for name in (condition.name, *condition.aliases):
            index.setdefault(normalise_name(name), condition)
    return index


def _condition(raw: dict) -> Condition:
    frequencies, details = {}, {}
    for finding_id, value in raw["findings"].items():
        if isinstance(value, dict):
            frequencies[finding_id] = float(value["p"])
            if value.get("detail"):
                details[finding_id] = value["detail"]
        else:
            frequencies[finding_id] = float(value)
    return Condition(
        name=raw["name"], icd10=raw["icd10"], organ_system=raw["organ_system"],
        aliases=tuple(raw.get("aliases", ())), age_range=tuple(raw.get("age_range", (18, 80))),
        sex=raw.get("sex", "any"), opening_complaint=raw["opening_complaint"],
        frequencies=frequencies, details=details, key_findings=tuple(raw["key_findings"]),
    )


def _read_all(folder: Path) -> list:
    """Concatenate the JSON files of a folder (objects merged, lists joined), sorted by name."""
    merged_list, merged_dict = [], {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            merged_dict.update(data)
        else:
            merged_list.extend(data)
    return merged_list or merged_dict


def load_knowledge_base(directory: Path | str = KNOWLEDGE_DIR) -> KnowledgeBase:
    """Read `findings/*.json` (finding vocabulary) and `conditions/*.json` from `directory`."""
    directory = Path(directory)
    findings = {
        fid: FindingEntry(fid, f["label"], tuple(f["cues"]), f["present"], f["absent"])
        for fid, f in _read_all(directory / "findings").items()
    }
    return KnowledgeBase(tuple(_condition(c) for c in _read_all(directory / "conditions")), findings)


@lru_cache(maxsize=1)
def embedded_knowledge_base() -> KnowledgeBase:
    """The knowledge base shipped in the package, read once."""
    return load_knowledge_base()


def sample_case(kb: KnowledgeBase, condition: Condition, rng: random.Random, case_id: str,
                num_absent: int = 8) -> Case:
    """Draw one patient of `condition`: each finding present with its frequency.

    The findings the patient denies are the condition's findings that were not drawn plus a few
    findings typical of other conditions, so questions about them get a recorded "no"; anything
    else stays unknown ("I'm not sure").
    """
    present_ids = [f for f, p in condition.frequencies.items() if rng.random() < p]
    for key in condition.key_findings[:2]:  # a case must be recognisable from its key findings
        if key not in present_ids:
            present_ids.append(key)
    absent_ids = [f for f in condition.frequencies if f not in present_ids]
    others = sorted(set(kb.findings) - set(condition.frequencies))
    absent_ids += rng.sample(others, min(num_absent, len(others)))
    low, high = condition.age_range
    sex = condition.sex if condition.sex != "any" else rng.choice(("female", "male"))

    def finding(fid: str, present: bool) -> Finding:
        entry = kb.findings[fid]
        statement = condition.details.get(fid, entry.present) if present else entry.absent
        return Finding(fid, entry.label, entry.cues, statement)

    return Case(
        case_id=case_id, hidden_diagnosis=condition.name, icd10=condition.icd10,
        organ_system=condition.organ_system, age=rng.randint(low, high), sex=sex,
        opening_complaint=condition.opening_complaint,
        present=tuple(finding(f, True) for f in present_ids),
        absent=tuple(finding(f, False) for f in absent_ids),
        key_findings=condition.key_findings, aliases=condition.aliases,
    )
