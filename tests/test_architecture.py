"""The layout issue 13 set up stays: no import arrows back up, no load-time cycles, and the case
wing reads nothing but itself, the error type and the cache folder (the doctor, patients, judges and training read it)."""

from bench.architecture import imports, measure, modules
from tests.conftest import ROOT


def test_no_arrows_back_up_and_no_cycles():
    layout = measure(ROOT)
    assert layout["arrows_back_up"] == [] and layout["cycle"] == []


def test_the_case_wing_imports_only_itself_errors_and_the_cache():
    found = modules(ROOT)
    wing = {m: p for m, p in found.items() if m == "grpodx.cases" or m.startswith("grpodx.cases.")}
    outside = {f"{m} -> {d}" for m, p in wing.items() for d in imports(p, set(found))
               if d not in wing and d not in ("grpodx.errors", "grpodx.cache")}
    assert not outside
