"""The official DDXPlus English release files: evidences (questions, value meanings) and pathologies.

Read from wherever a user keeps them (never shipped with the project); every problem is a
ConfigError naming the file and the entry, so a wrong path or a truncated download fails at start-up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from grpodx.errors import ConfigError

FIELD = "data.init_args.cases"
CONDITIONS_FILE = "release_conditions.json"
EVIDENCES_FILE = "release_evidences.json"
DATA_TYPES = ("B", "C", "M")  # binary yes/no, categorical (one value), multi-choice (several values)


@dataclass(frozen=True)
class Evidence:
    """One DDXPlus question: `code` like 'E_91', its English text and, for C/M, its values.

    `parent` is the yes/no question it follows up (pain intensity follows 'any pain?'), or None.
    `values` maps each possible value ('V_123', or '7' on 0-10 scales) to its English meaning.
    """

    code: str
    question: str
    data_type: str
    is_antecedent: bool
    parent: str | None
    default_value: str
    values: dict[str, str]


@dataclass(frozen=True)
class Pathology:
    """One DDXPlus pathology with its ICD-10 code and the evidences the release lists for it."""

    name: str
    icd10: str
    symptoms: tuple[str, ...]
    antecedents: tuple[str, ...]
    severity: int

    @property
    def evidences(self) -> tuple[str, ...]:
        return self.symptoms + self.antecedents


@dataclass(frozen=True, eq=False)
class Release:
    """The two release files, validated and indexed."""

    folder: Path
    evidences: dict[str, Evidence]
    pathologies: dict[str, Pathology]

    @property
    def identity(self) -> str:
        """What a patients file was validated against: the codes, types, values and pathologies."""
        described = sorted((e.code, e.data_type, tuple(sorted(e.values))) for e in self.evidences.values())
        return hashlib.sha1(repr((described, sorted(self.pathologies))).encode()).hexdigest()[:16]


def normalise_icd10(raw: str) -> str:
    """'j17, j18' -> 'J17': upper case, the first code of a list (DDXPlus mixes case and lists)."""
    return raw.split(",")[0].strip().upper()


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(FIELD, f"{path} not found",
                          f"point the source at a folder holding {CONDITIONS_FILE} and {EVIDENCES_FILE}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(FIELD, f"{path} is not valid JSON ({error})",
                          "download the official English release file again") from error
    if not isinstance(data, dict) or not data:
        raise ConfigError(FIELD, f"{path} must hold a non-empty JSON object",
                          "use the official English release file")
    return data


def _evidence(path: Path, key: str, raw: dict) -> Evidence:
    try:
        data_type = raw["data_type"]
        if data_type not in DATA_TYPES:
            raise ValueError(f"data_type {data_type!r} is not one of {DATA_TYPES}")
        meanings = raw.get("value_meaning") or {}
        values = {str(v): (meanings[v]["en"] if v in meanings else str(v)) for v in raw["possible-values"]}
        if data_type != "B" and not values:
            raise ValueError("a C/M evidence needs possible-values")
        parent = raw.get("code_question", key)
        return Evidence(code=key, question=str(raw["question_en"]).strip(), data_type=data_type,
                        is_antecedent=bool(raw["is_antecedent"]), parent=None if parent == key else parent,
                        default_value=str(raw.get("default_value", "")), values=values)
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(FIELD, f"{path}: evidence {key!r} is malformed ({error!r})",
                          "use the official English release_evidences.json") from error


def _pathology(path: Path, key: str, raw: dict, evidences: dict[str, Evidence]) -> Pathology:
    try:
        symptoms, antecedents = tuple(raw["symptoms"]), tuple(raw["antecedents"])
        pathology = Pathology(name=key, icd10=normalise_icd10(raw["icd10-id"]), symptoms=symptoms,
                              antecedents=antecedents, severity=int(raw.get("severity", 0)))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(FIELD, f"{path}: pathology {key!r} is malformed ({error!r})",
                          "use the official English release_conditions.json") from error
    unknown = [code for code in pathology.evidences if code not in evidences]
    if unknown:
        raise ConfigError(FIELD, f"{path}: pathology {key!r} lists unknown evidences {unknown}",
                          f"use {CONDITIONS_FILE} and {EVIDENCES_FILE} from the same release")
    return pathology


def load_release(folder: Path | str) -> Release:
    """Read and validate `release_evidences.json` and `release_conditions.json` in `folder`."""
    folder = Path(folder)
    path = folder / EVIDENCES_FILE
    evidences = {key: _evidence(path, key, raw) for key, raw in _read_json(path).items()}
    path = folder / CONDITIONS_FILE
    pathologies = {key: _pathology(path, key, raw, evidences) for key, raw in _read_json(path).items()}
    return Release(folder, evidences, pathologies)
