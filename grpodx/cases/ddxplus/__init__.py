"""DDXPlus (Fansi Tchango et al., NeurIPS 2022; CC-BY) read from a user's files into Cases.

`release` reads the official English release files, `records` the patient CSVs, `case_builder`
turns a record into a Case in the patient's words, `sampler` draws new patients from kb_en.json.
"""

from grpodx.cases.ddxplus.case_builder import CaseBuilder
from grpodx.cases.ddxplus.files import DDXPlusFiles, locate
from grpodx.cases.ddxplus.pathology_kb import PathologyEntry, load_pathology_kb
from grpodx.cases.ddxplus.records import PatientFile, PatientRecord
from grpodx.cases.ddxplus.release import Evidence, Pathology, Release, load_release
from grpodx.cases.ddxplus.sampler import sample_record

__all__ = ["CaseBuilder", "DDXPlusFiles", "Evidence", "Pathology", "PathologyEntry", "PatientFile",
           "PatientRecord", "Release", "load_pathology_kb", "load_release", "locate", "sample_record"]
