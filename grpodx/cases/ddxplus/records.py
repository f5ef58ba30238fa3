"""DDXPlus patient rows (`AGE, DIFFERENTIAL_DIAGNOSIS, SEX, PATHOLOGY, EVIDENCES, INITIAL_EVIDENCE`).

An evidence with a value is written `E_54_@_V_179` (or `E_56_@_7`); a multi-choice evidence repeats
its code once per value. The official training file holds about a million rows, so the file is
validated once, front to back, and then read by byte offset: memory stays a few bytes per patient.
"""

from __future__ import annotations

import csv
import re
from array import array
from dataclasses import dataclass
from pathlib import Path

from grpodx.cases.ddxplus.release import FIELD, Release
from grpodx.errors import ConfigError

COLUMNS = ("AGE", "DIFFERENTIAL_DIAGNOSIS", "SEX", "PATHOLOGY", "EVIDENCES", "INITIAL_EVIDENCE")
SEXES = {"F": "female", "M": "male"}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_PAIR = re.compile(r"\[\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")\s*,\s*([-+0-9.eE]+)\s*\]")


@dataclass(frozen=True)
class PatientRecord:
    """One patient as recorded: `evidences` maps each present code to its values (() for yes/no)."""

    age: int
    sex: str
    pathology: str
    evidences: dict[str, tuple[str, ...]]
    initial_evidence: str
    differential: tuple[tuple[str, float], ...]
    where: str


def _strings(text: str) -> list[str]:
    return [a or b for a, b in _QUOTED.findall(text)]


def parse_evidences(text: str) -> dict[str, tuple[str, ...]]:
    """"['E_53', 'E_54_@_V_179', 'E_54_@_V_192']" -> {'E_53': (), 'E_54': ('V_179', 'V_192')}."""
    if not text.strip().startswith("[") or not text.strip().endswith("]"):
        raise ValueError("EVIDENCES must be a list like ['E_53', 'E_54_@_V_179']")
    evidences: dict[str, list[str]] = {}
    for item in _strings(text):
        code, _, value = item.partition("_@_")
        values = evidences.setdefault(code, [])
        if value:
            values.append(value)
    return {code: tuple(values) for code, values in evidences.items()}


def parse_differential(text: str) -> tuple[tuple[str, float], ...]:
    """"[['Epiglottitis', 0.17], ...]" -> (('Epiglottitis', 0.17), ...), most probable first."""
    if not text.strip().startswith("["):
        raise ValueError("DIFFERENTIAL_DIAGNOSIS must be a list like [['Epiglottitis', 0.17], ...]")
    pairs = [(a or b, float(p)) for a, b, p in _PAIR.findall(text)]
    return tuple(sorted(pairs, key=lambda pair: -pair[1]))


def check_record(record: PatientRecord, release: Release) -> None:
    """Raise ValueError when a record names codes or values the release does not define."""
    if record.pathology not in release.pathologies:
        raise ValueError(f"PATHOLOGY {record.pathology!r} is not in release_conditions.json")
    for code, values in record.evidences.items():
        evidence = release.evidences.get(code)
        if evidence is None:
            raise ValueError(f"EVIDENCES has unknown evidence {code!r}")
        if evidence.data_type == "B" and values:
            raise ValueError(f"EVIDENCES gives a value to yes/no evidence {code!r}")
        if evidence.data_type != "B" and not values:
            raise ValueError(f"EVIDENCES gives no value for {evidence.data_type} evidence {code!r}")
        bad = [v for v in values if v not in evidence.values]
        if bad:
            raise ValueError(f"EVIDENCES gives {code!r} unknown values {bad}")
    if record.initial_evidence not in record.evidences:
        raise ValueError(f"INITIAL_EVIDENCE {record.initial_evidence!r} is not among the EVIDENCES")
    unknown = [name for name, _ in record.differential if name not in release.pathologies]
    if unknown:
        raise ValueError(f"DIFFERENTIAL_DIAGNOSIS names unknown pathologies {unknown}")


def _record(row: list[str], where: str) -> PatientRecord:
    if len(row) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} columns {COLUMNS}, got {len(row)}")
    age, differential, sex, pathology, evidences, initial = row
    if not age.strip().isdigit():
        raise ValueError(f"AGE must be a whole number, got {age!r}")
    if sex.strip() not in SEXES:
        raise ValueError(f"SEX must be F or M, got {sex!r}")
    return PatientRecord(int(age), SEXES[sex.strip()], pathology.strip(), parse_evidences(evidences),
                         initial.strip(), parse_differential(differential), where)


class PatientFile:
    """A validated patients CSV, read row by row on demand (`len`, `record(i)`)."""

    def __init__(self, path: Path | str, release: Release):
        self.path, self.release = Path(path), release
        self._offsets = array("q")
        self._index_and_check()

    def _index_and_check(self) -> None:
        if not self.path.is_file():
            raise ConfigError(FIELD, f"{self.path} not found", "give a DDXPlus patients CSV or its folder")
        with self.path.open("rb") as handle:
            header = next(csv.reader([handle.readline().decode("utf-8-sig")]), [])
            if tuple(h.strip() for h in header) != COLUMNS:
                raise ConfigError(FIELD, f"{self.path}:1: header is {header}, expected {list(COLUMNS)}",
                                  "use a patients CSV of the official DDXPlus release")
            line_number, offset = 1, handle.tell()
            for raw in iter(handle.readline, b""):
                line_number += 1
                if raw.strip():
                    self.check_line(raw, line_number)
                    self._offsets.append(offset)
                offset += len(raw)
        if not self._offsets:
            raise ConfigError(FIELD, f"{self.path} has no patient rows", "use a non-empty patients CSV")

    def check_line(self, raw: bytes, line_number: int) -> PatientRecord:
        where = f"{self.path.name}:{line_number}"
        try:
            record = _record(next(csv.reader([raw.decode("utf-8")])), where)
            check_record(record, self.release)
            return record
        except (ValueError, UnicodeDecodeError, csv.Error) as error:
            raise ConfigError(FIELD, f"{self.path}:{line_number}: {error}",
                              "fix or drop that row (the official release format is "
                              "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE)") from error

    def __len__(self) -> int:
        return len(self._offsets)

    def record(self, index: int) -> PatientRecord:
        """The patient on data row `index` (0 = the row after the header)."""
        with self.path.open("rb") as handle:
            handle.seek(self._offsets[index])
            raw = handle.readline()
        return _record(next(csv.reader([raw.decode("utf-8")])), f"{self.path.name}:row {index + 1}")
