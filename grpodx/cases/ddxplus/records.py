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
from grpodx.cases.line_index import cached_offsets
from grpodx.errors import ConfigError

COLUMNS = ("AGE", "DIFFERENTIAL_DIAGNOSIS", "SEX", "PATHOLOGY", "EVIDENCES", "INITIAL_EVIDENCE")
SEXES = {"F": "female", "M": "male"}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
ROW_FIX = ("fix or drop that row (the official release format is "
           "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE)")
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


class _FastCheck:
    """A row the release surely accepts, by set lookups (False: let check_record decide and explain)."""

    def __init__(self, release: Release):
        self.pathologies = set(release.pathologies)
        self.tokens = {code if evidence.data_type == "B" else f"{code}_@_{value}"
                       for code, evidence in release.evidences.items()
                       for value in ((None,) if evidence.data_type == "B" else evidence.values)}

    def accepts(self, row: list[str]) -> bool:
        if len(row) != len(COLUMNS):
            return False
        age, differential, sex, pathology, evidences, initial = row
        evidences, initial = evidences.strip(), initial.strip()
        if not (age.strip().isdigit() and sex.strip() in SEXES and pathology.strip() in self.pathologies
                and evidences[:1] == "[" and evidences[-1:] == "]" and differential.strip()[:1] == "["):
            return False
        if not set(_strings(evidences)) <= self.tokens or not set(_strings(differential)) <= self.pathologies:
            return False
        return f"'{initial}'" in evidences or f"'{initial}_@_" in evidences


class PatientFile:
    """A validated patients CSV, read row by row on demand (`len`, `record(i)`).

    Validation is one pass of a single CSV reader with set checks per row (the detailed rules of
    `check_record` run only on a row the fast checks doubt, and give its error); its result, the
    rows' byte offsets, is cached (grpodx.cases.line_index), so later opens read no row at all.
    """

    def __init__(self, path: Path | str, release: Release):
        self.path, self.release = Path(path), release
        if not self.path.is_file():
            raise ConfigError(FIELD, f"{self.path} not found", "give a DDXPlus patients CSV or its folder")
        self._offsets = cached_offsets(self.path, "ddxplus", self._index_and_check, release.identity)
        if not self._offsets:
            raise ConfigError(FIELD, f"{self.path} has no patient rows", "use a non-empty patients CSV")

    def _index_and_check(self) -> array:
        offsets, numbers = array("q"), array("q")
        with self.path.open("rb") as handle:
            header = next(csv.reader([handle.readline().decode("utf-8-sig")]), [])
            if tuple(h.strip() for h in header) != COLUMNS:
                raise ConfigError(FIELD, f"{self.path}:1: header is {header}, expected {list(COLUMNS)}",
                                  "use a patients CSV of the official DDXPlus release")

            def lines():
                offset, number = handle.tell(), 1
                for raw in handle:
                    number += 1
                    if raw.strip():
                        offsets.append(offset)
                        numbers.append(number)
                        try:
                            yield raw.decode("utf-8")
                        except UnicodeDecodeError:
                            self.check_line(raw, number)  # raises the one-line error
                    offset += len(raw)

            fast = _FastCheck(self.release)
            reader = csv.reader(lines())
            try:
                for index, row in enumerate(reader):
                    if reader.line_num != index + 1:  # a quoted field ran over a line end
                        raise ConfigError(FIELD, f"{self.path}:{numbers[index]}: a field runs over the line end",
                                          "DDXPlus rows are one line each")
                    if not fast.accepts(row):
                        self._check_row(row, numbers[index])
            except csv.Error as error:
                raise ConfigError(FIELD, f"{self.path}:{numbers[-1]}: {error}", ROW_FIX) from error
        return offsets

    def _check_row(self, row: list[str], line_number: int) -> PatientRecord:
        try:
            record = _record(row, f"{self.path.name}:{line_number}")
            check_record(record, self.release)
            return record
        except ValueError as error:
            raise ConfigError(FIELD, f"{self.path}:{line_number}: {error}", ROW_FIX) from error

    def check_line(self, raw: bytes, line_number: int) -> PatientRecord:
        try:
            row = next(csv.reader([raw.decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error) as error:
            raise ConfigError(FIELD, f"{self.path}:{line_number}: {error}", ROW_FIX) from error
        return self._check_row(row, line_number)

    def __len__(self) -> int:
        return len(self._offsets)

    def record(self, index: int) -> PatientRecord:
        """The patient on data row `index` (0 = the row after the header)."""
        with self.path.open("rb") as handle:
            handle.seek(self._offsets[index])
            raw = handle.readline()
        return _record(next(csv.reader([raw.decode("utf-8")])), f"{self.path.name}:row {index + 1}")
