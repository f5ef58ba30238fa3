"""Where a user's DDXPlus files are: a folder, or a patients CSV whose folder holds the release files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grpodx.cases.ddxplus.pathology_kb import KB_FILE
from grpodx.cases.ddxplus.release import CONDITIONS_FILE, EVIDENCES_FILE, FIELD
from grpodx.errors import ConfigError


@dataclass(frozen=True)
class DDXPlusFiles:
    """The release folder, the patients CSV (None when not needed) and kb_en.json (None if absent)."""

    folder: Path
    patients: Path | None
    kb: Path | None


def locate(path: str | Path, need_patients: bool = True, need_kb: bool = False) -> DDXPlusFiles:
    """Resolve `ddxplus:PATH`: a CSV file, or a folder holding exactly one patients CSV."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(FIELD, f"DDXPlus path {path} does not exist",
                          f"give a folder holding {CONDITIONS_FILE}, {EVIDENCES_FILE} and a patients CSV")
    folder = path.parent if path.is_file() else path
    patients = path if path.is_file() else None
    if need_patients and patients is None:
        found = sorted(folder.glob("*.csv"))
        if len(found) != 1:
            raise ConfigError(FIELD, f"{folder} holds {len(found)} CSV files ({[p.name for p in found]})",
                              "point at one patients CSV, e.g. ddxplus:/data/ddxplus/release_test_patients.csv")
        patients = found[0]
    kb = folder / KB_FILE
    if need_kb and not kb.is_file():
        raise ConfigError(FIELD, f"{kb} not found", f"the sampler needs {KB_FILE} beside the release files")
    return DDXPlusFiles(folder, patients, kb if kb.is_file() else None)
