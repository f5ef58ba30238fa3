"""Can a doctor learn the hidden diagnosis by sweeping condition names past the offline patient?

`python -m bench.name_sweep [--ddxplus ../shared/data/ddxplus] [--kb-seeds 2] [--ddxplus-cases 150]`
asks every case "Do you have X?" (and history phrasings: "Have you ever been diagnosed with X?",
...) for every name X of every condition of the case's world (the embedded knowledge base for its
sampled cases, the DDXPlus pathologies for replayed DDXPlus patients) and counts how often the
patient confirms a recorded finding (a match with present=True): for X a name of the hidden
diagnosis vs X a name of another condition. A patient that cannot be gamed confirms both at the
same rate. Prints one JSON line of rates per world and phrasing. Measured with the defaults (true vs
wrong names; before -> after issue 11): kb "Do you have X?" 21.7 % vs 1.6 % -> 0 vs 0; kb history
11.9 % vs 1.1 % -> 0.9 % vs 0.04 %; DDXPlus "Do you have X?" 38.8 % vs 5.6 % -> 0 vs 0; DDXPlus history
33.5 % vs 4.3 % -> 27.0 % vs 0.85 %, all of it from the 22 pathologies the release asks about by name as
history (E_24 "Have you ever had a diagnosis of anemia?", E_118 pneumonia, E_25 family cluster
headaches ...); 0 vs 0 for the other 27.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

from grpodx.cases import Case
from grpodx.cases.ddxplus import CaseBuilder, PatientFile, load_pathology_kb, load_release
from grpodx.cases.knowledge import KnowledgeBase, embedded_knowledge_base, sample_case
from grpodx.patients.offline import OfflinePatient

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DDXPLUS = ROOT.parent / "shared" / "data" / "ddxplus"
PHRASINGS = {
    "current": ("Do you have {}?",),
    "history": ("Have you ever been diagnosed with {}?", "Have you had {} before?",
                "Does anyone in your family have {}?"),
}


@dataclass(frozen=True)
class SweepRate:
    """Confirmed / asked, for names of the hidden diagnosis and for names of other conditions."""

    true_confirmed: int
    true_asked: int
    wrong_confirmed: int
    wrong_asked: int

    @property
    def true_rate(self) -> float:
        return self.true_confirmed / max(self.true_asked, 1)

    @property
    def wrong_rate(self) -> float:
        return self.wrong_confirmed / max(self.wrong_asked, 1)

    def summary(self) -> dict:
        return {"true": round(self.true_rate, 4), "true_n": self.true_asked,
                "wrong": round(self.wrong_rate, 4), "wrong_n": self.wrong_asked}


def kb_world(kb: KnowledgeBase, seeds: int = 2) -> tuple[list[Case], dict[str, tuple[str, ...]]]:
    """`seeds` sampled patients of every knowledge-base condition, and every condition's names."""
    cases = [sample_case(kb, c, random.Random(f"sweep-{s}-{i}"), f"sweep-{s}-{i}")
             for s in range(seeds) for i, c in enumerate(kb.conditions)]
    return cases, {c.name: (c.name, *c.aliases) for c in kb.conditions}


def ddxplus_world(folder: Path, count: int = 150) -> tuple[list[Case], dict[str, tuple[str, ...]]]:
    """The first `count` recorded patients of dev_patients.csv, and every pathology's names (the
    aliases a case carries: kb_en.json's, minus symptom words)."""
    release = load_release(folder)
    kb_file = folder / "kb_en.json"
    builder = CaseBuilder(release, load_pathology_kb(kb_file, release) if kb_file.exists() else None)
    patients = PatientFile(folder / "dev_patients.csv", release)
    cases = [builder.case(patients.record(i), f"sweep-{i}") for i in range(min(count, len(patients)))]
    return cases, {name: (name, *builder.aliases(name)) for name in release.pathologies}


def sweep(patient: OfflinePatient, cases: list[Case], names: dict[str, tuple[str, ...]],
          templates: tuple[str, ...]) -> SweepRate:
    """Ask each case every name in every template, one question per doctor turn."""
    counts = [0, 0, 0, 0]
    for case in cases:
        asked = [(condition == case.hidden_diagnosis, template.format(name))
                 for condition, aliases in names.items() for name in aliases for template in templates]
        replies = patient.reply_batch([case] * len(asked), [q for _, q in asked], [[] for _ in asked])
        for (true, _), reply in zip(asked, replies):
            confirmed = any(m.present is True for m in reply.matched)
            counts[0 if true else 2] += confirmed
            counts[1 if true else 3] += 1
    return SweepRate(*counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ddxplus", type=Path, default=DEFAULT_DDXPLUS, help="folder with the release files")
    parser.add_argument("--kb-seeds", type=int, default=2, help="sampled patients per knowledge-base condition")
    parser.add_argument("--ddxplus-cases", type=int, default=150, help="recorded DDXPlus patients to sweep")
    args = parser.parse_args()
    patient = OfflinePatient()
    worlds = {"kb": kb_world(embedded_knowledge_base(), args.kb_seeds)}
    if (args.ddxplus / "dev_patients.csv").exists():
        worlds["ddxplus"] = ddxplus_world(args.ddxplus, args.ddxplus_cases)
    results = {}
    for world, (cases, names) in worlds.items():
        for phrasing, templates in PHRASINGS.items():
            rate = sweep(patient, cases, names, templates)
            results[f"{world}/{phrasing}"] = rate.summary()
            print(f"{world}/{phrasing}: true {rate.true_confirmed}/{rate.true_asked} = {rate.true_rate:.3f}, "
                  f"wrong {rate.wrong_confirmed}/{rate.wrong_asked} = {rate.wrong_rate:.4f}", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
