"""New DDXPlus-style patients drawn from kb_en.json's per-pathology statistics.

Why: the recorded files hold a fixed set of patients; sampling gives an endless, seeded stream with
the same pathologies and evidence frequencies. The pathology is drawn by its training prior, each
yes/no evidence is present with its P(present), a categorical one takes a value from its
distribution, and a multi-choice one takes 1-3 values (kb_en.json gives how often each value occurs,
not how many a patient has). Follow-up questions (pain intensity …) are only drawn when their
parent question is present. kb_en.json has no ages: adults 18-85, except the paediatric pathologies.
"""

from __future__ import annotations

import random

from grpodx.cases.ddxplus.pathology_kb import PathologyEntry
from grpodx.cases.ddxplus.records import PatientRecord
from grpodx.cases.ddxplus.release import Release

AGE_RANGE = (18, 85)
PAEDIATRIC_AGES = {"Croup": (1, 6), "Bronchiolitis": (0, 2)}  # general medical knowledge
FEMALE_ONLY = {"E_163", "E_145", "E_167", "E_141", "E_11"}  # discharge, periods, pregnancy, menarche, breastfeeding
MAX_MULTI_VALUES = 3


def _draw_values(rng: random.Random, distribution: dict[str, float], multi: bool) -> tuple[str, ...]:
    values, weights = list(distribution), list(distribution.values())
    if not multi:
        return tuple(rng.choices(values, weights=weights))
    chosen = []
    for _ in range(rng.randint(1, min(MAX_MULTI_VALUES, len(values)))):
        pick = rng.choices(range(len(values)), weights=weights)[0]
        chosen.append(values.pop(pick))
        weights.pop(pick)
    return tuple(chosen)


def sample_record(pathology_kb: dict[str, PathologyEntry], release: Release, rng: random.Random,
                  where: str) -> PatientRecord:
    """One new patient: pathology by prior, then its evidences by their statistics."""
    names = list(pathology_kb)
    entry = pathology_kb[rng.choices(names, weights=[pathology_kb[n].prior for n in names])[0]]
    sex = rng.choice(("female", "male"))
    low, high = PAEDIATRIC_AGES.get(entry.name, AGE_RANGE)
    evidences: dict[str, tuple[str, ...]] = {}
    ordered = sorted(entry.evidences, key=lambda code: release.evidences[code].parent is not None)
    for code in ordered:  # parents (yes/no roots) before their follow-ups
        evidence, stats = release.evidences[code], entry.evidences[code]
        if (sex == "male" and code in FEMALE_ONLY) or (evidence.parent in release.evidences
                                                         and evidence.parent not in evidences):
            continue
        if evidence.data_type == "B":
            if rng.random() < stats.p_present:
                evidences[code] = ()
        elif stats.value_distribution:
            evidences[code] = _draw_values(rng, stats.value_distribution, evidence.data_type == "M")
    complaints = [c for c in evidences if release.evidences[c].data_type == "B"
                  and not release.evidences[c].is_antecedent and release.evidences[c].parent is None]
    if not complaints:  # a patient comes in with something: the pathology's likeliest symptom
        likeliest = max((c for c in entry.evidences if release.evidences[c].data_type == "B"
                         and not release.evidences[c].is_antecedent and c not in FEMALE_ONLY),
                        key=lambda c: entry.evidences[c].p_present)
        evidences[likeliest] = ()
        complaints = [likeliest]
    return PatientRecord(age=rng.randint(low, high), sex=sex, pathology=entry.name, evidences=evidences,
                         initial_evidence=rng.choice(complaints), differential=(), where=where)
