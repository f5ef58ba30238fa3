"""`kb_en.json`: per-pathology names, aliases, organ system, prior and evidence statistics.

It is optional for replaying recorded patients (names and organ systems then come from the release
and the ICD-10 chapter) and required for sampling new ones. Organ systems are mapped onto the
embedded knowledge base's words so the judge's organ-system credit compares like with like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grpodx.cases.ddxplus.release import FIELD, Release, normalise_icd10
from grpodx.errors import ConfigError

KB_FILE = "kb_en.json"
_ORGAN_SYSTEMS = {"respiratory_lower": "respiratory", "upper_airway_ent": "ent",
                  "systemic_infection": "infectious", "hematologic": "hematological"}
# ICD-10 chapter letter (and a few 3-character blocks) -> organ system, when kb_en.json is absent.
_ICD10_SYSTEMS = (("J0", "ent"), ("J3", "ent"), ("H6", "ent"), ("J", "respiratory"), ("I", "cardiovascular"),
                  ("K", "gastrointestinal"), ("G", "neurological"), ("F", "psychiatric"), ("A", "infectious"),
                  ("B", "infectious"), ("D5", "hematological"), ("D6", "hematological"), ("M", "musculoskeletal"),
                  ("S", "musculoskeletal"), ("C", "oncological"), ("T", "allergy_immunology_rheum"),
                  ("D8", "allergy_immunology_rheum"), ("R", "general"))


@dataclass(frozen=True)
class EvidenceStatistics:
    """How one evidence shows in one pathology: P(present) for yes/no, else a value distribution."""

    p_present: float
    value_distribution: dict[str, float]


@dataclass(frozen=True)
class PathologyEntry:
    """One pathology of kb_en.json."""

    name: str
    icd10: str
    organ_system: str
    aliases: tuple[str, ...]
    prior: float
    evidences: dict[str, EvidenceStatistics]


def organ_system_of(icd10: str) -> str:
    """The organ system an ICD-10 code's chapter points to (fallback when kb_en.json is absent)."""
    code = icd10.upper()
    return next((system for prefix, system in _ICD10_SYSTEMS if code.startswith(prefix)), "other")


def _entry(path: Path, key: str, raw: dict, release: Release | None) -> PathologyEntry:
    try:
        codes = raw.get("icd10_codes") or [normalise_icd10(raw["icd10_raw"])]
        system = str(raw.get("organ_system_curated") or organ_system_of(codes[0]))
        evidences = {}
        for code, stats in raw["findings"].items():
            distribution = {str(v): float(d["p"]) for v, d in (stats.get("value_distribution") or {}).items()}
            evidences[code] = EvidenceStatistics(float(stats.get("p_present", 1.0 if distribution else 0.0)),
                                                 distribution)
        entry = PathologyEntry(name=key, icd10=normalise_icd10(codes[0]),
                               organ_system=_ORGAN_SYSTEMS.get(system, system),
                               aliases=tuple(raw.get("aliases_curated", ())), prior=float(raw["prior_train"]),
                               evidences=evidences)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ConfigError(FIELD, f"{path}: pathology {key!r} is malformed ({error!r})",
                          "use the kb_en.json that goes with the release files") from error
    if release is not None:
        unknown = [code for code in entry.evidences if code not in release.evidences]
        if key not in release.pathologies or unknown:
            raise ConfigError(FIELD, f"{path}: pathology {key!r} or its evidences {unknown} are not in the release",
                              "use the kb_en.json that goes with the release files")
    return entry


def load_pathology_kb(path: Path | str, release: Release | None = None) -> dict[str, PathologyEntry]:
    """Read kb_en.json, checked against the release when one is given."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(FIELD, f"{path} not found", f"put {KB_FILE} beside the release files") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(FIELD, f"{path} is not valid JSON ({error})", f"restore {KB_FILE}") from error
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(FIELD, f"{path} must hold a non-empty JSON object", f"restore {KB_FILE}")
    return {key: _entry(path, key, value, release) for key, value in raw.items()}
