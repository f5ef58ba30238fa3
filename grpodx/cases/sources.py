"""Where cases come from: a reference string in the config becomes a CaseSource.

- `kb`: patients sampled from the embedded knowledge base;
- `ddxplus:PATH`: DDXPlus patients replayed as recorded (PATH = a patients CSV, or a folder holding
  one CSV plus release_conditions.json and release_evidences.json);
- `ddxplus-sample:PATH`: new DDXPlus-style patients drawn from PATH/kb_en.json's statistics;
- `jsonl:PATH`: the user's own vignettes, one JSON object per line (format: grpodx/cases/vignettes.py);
- `agentclinic:PATH`: AgentClinic's OSCE records as published (grpodx/cases/agentclinic.py).

Training and held-out cases never overlap: sampled sources use separately seeded streams, replayed
ones hold out a fixed slice and cycle the training stream through the rest, reshuffled every pass.
"""

from __future__ import annotations

import random
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

from grpodx.cases import Case
from grpodx.cases.agentclinic import agentclinic_file
from grpodx.cases.ddxplus import CaseBuilder, PatientFile, load_pathology_kb, load_release, locate, sample_record
from grpodx.errors import ConfigError
from grpodx.cases.knowledge import KnowledgeBase, embedded_knowledge_base, sample_case
from grpodx.cases.vignettes import vignette_file

FIELD = "data.init_args.cases"
FORMS = "use 'kb', 'ddxplus:PATH', 'ddxplus-sample:PATH', 'jsonl:PATH' or 'agentclinic:PATH'"


class CaseSource:
    """A deterministic, indexable supply of training cases plus a fixed held-out list."""

    def train_case(self, index: int, seed: int) -> Case:
        raise NotImplementedError

    def held_out(self, count: int, seed: int) -> list[Case]:
        raise NotImplementedError


class KnowledgeBaseCases(CaseSource):
    """Patients drawn from the knowledge base: a uniform condition, then findings by frequency."""

    def __init__(self, kb: KnowledgeBase):
        if not kb.conditions:
            raise ConfigError(FIELD, "the knowledge base has no conditions",
                              "add conditions to grpodx/cases/knowledge/conditions/*.json")
        self.kb = kb

    def train_case(self, index: int, seed: int) -> Case:
        rng = random.Random(f"train-{seed}-{index}")
        return sample_case(self.kb, rng.choice(self.kb.conditions), rng, f"kb-train-{index}")

    def held_out(self, count: int, seed: int) -> list[Case]:
        """Stratified: conditions round-robin across organ systems (a seeded order within each), so
        the first N cases span as many organ systems and conditions as N allows, and every condition
        is validated once before any twice (in knowledge-base order, the first 8 were 7
        cardiovascular conditions and cellulitis)."""
        conditions = stratified(self.kb.conditions, seed)
        return [sample_case(self.kb, conditions[i % len(conditions)], random.Random(f"heldout-{seed}-{i}"),
                            f"kb-heldout-{i}") for i in range(count)]


def stratified(conditions, seed: int) -> list:
    """Conditions interleaved across organ systems: the first of each system (systems in a seeded
    order), then the second of each, ...; within a system, a seeded order."""
    rng = random.Random(f"strata-{seed}")
    systems: dict[str, list] = {}
    for condition in conditions:
        systems.setdefault(condition.organ_system, []).append(condition)
    groups = [sorted(group, key=lambda c: c.name) for _, group in sorted(systems.items())]
    for group in groups:
        rng.shuffle(group)
    rng.shuffle(groups)
    return [group[i] for i in range(max(map(len, groups), default=0)) for group in groups if i < len(group)]


class ReplayedCases(CaseSource):
    """A fixed list of `count` cases built on demand by `build(i)`.

    Held out: the first max(1, min(count // 10, 1000)) positions of a shuffled order that depends on
    nothing but `count` (so the split never moves); training cycles through the rest, each pass in
    a new order drawn from the seed and the pass number.
    """

    MAX_HELD_OUT = 1000

    def __init__(self, count: int, build: Callable[[int], Case], name: str):
        if count < 2:
            raise ConfigError(FIELD, f"{name} holds {count} case(s); training and held-out need at least 2",
                              "add more cases")
        self.count, self.build, self.name = count, build, name
        order = list(range(count))
        random.Random(f"split-{count}").shuffle(order)
        size = max(1, min(count // 10, self.MAX_HELD_OUT))
        self.held_out_rows, self.train_rows = order[:size], order[size:]

    @lru_cache(maxsize=2)
    def _pass_order(self, seed: int, number: int) -> list[int]:
        rows = list(self.train_rows)
        random.Random(f"train-{seed}-{number}").shuffle(rows)
        return rows

    def train_case(self, index: int, seed: int) -> Case:
        number, position = divmod(index, len(self.train_rows))
        return self.build(self._pass_order(seed, number)[position])

    def held_out(self, count: int, seed: int) -> list[Case]:
        """At most `count` cases of the fixed held-out slice (the same for every seed)."""
        return [self.build(row) for row in self.held_out_rows[:count]]


class SampledDDXPlusCases(CaseSource):
    """New patients drawn from kb_en.json (see grpodx/cases/ddxplus/sampler.py)."""

    def __init__(self, path: str):
        files = locate(path, need_patients=False, need_kb=True)
        self.release = load_release(files.folder)
        self.pathology_kb = load_pathology_kb(files.kb, self.release)
        self.builder = CaseBuilder(self.release, self.pathology_kb)

    def _case(self, rng: random.Random, case_id: str) -> Case:
        return self.builder.case(sample_record(self.pathology_kb, self.release, rng, case_id), case_id)

    def train_case(self, index: int, seed: int) -> Case:
        return self._case(random.Random(f"ddxplus-train-{seed}-{index}"), f"ddxplus-sample-train-{index}")

    def held_out(self, count: int, seed: int) -> list[Case]:
        return [self._case(random.Random(f"ddxplus-heldout-{seed}-{i}"), f"ddxplus-sample-heldout-{i}")
                for i in range(count)]


def ddxplus_cases(path: str, patients_csv: str | None = None) -> ReplayedCases:
    """Recorded DDXPlus patients, validated at start-up, each built into a Case when drawn.

    `patients_csv` reads a CSV kept apart from the release files in `path`.
    """
    files = locate(path, need_patients=patients_csv is None)
    if patients_csv is not None:
        files = replace(files, patients=Path(patients_csv).expanduser())
    release = load_release(files.folder)
    patients = PatientFile(files.patients, release)
    builder = CaseBuilder(release, load_pathology_kb(files.kb, release) if files.kb else None)
    stem = files.patients.stem

    def build(row: int) -> Case:
        return builder.case(patients.record(row), f"ddxplus-{stem}-{row}")

    return ReplayedCases(len(patients), build, str(files.patients))


def jsonl_cases(path: str) -> ReplayedCases:
    """The user's vignettes, all validated at start-up (once per file: the index is cached), each
    read from its line when drawn."""
    return ReplayedCases(*vignette_file(path), path)


def agentclinic_cases(path: str) -> ReplayedCases:
    """AgentClinic's OSCE records, validated like vignettes (the same fixed held-out slice rule)."""
    return ReplayedCases(*agentclinic_file(path), path)


def case_source(reference: str) -> CaseSource:
    """Parse `data.cases`; unknown references fail with the accepted forms."""
    if reference == "kb":
        return KnowledgeBaseCases(embedded_knowledge_base())
    kind, _, path = reference.partition(":")
    readers = {"ddxplus": ddxplus_cases, "ddxplus-sample": SampledDDXPlusCases, "jsonl": jsonl_cases,
               "agentclinic": agentclinic_cases}
    if kind in readers and path.strip():
        return readers[kind](path.strip())
    raise ConfigError(FIELD, f"unknown case source {reference!r}", FORMS)
