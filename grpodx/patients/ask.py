"""Ask one case's offline patient questions from stdin; one JSON line per question on stdout.

    echo "Do you have a fever?" | python -m grpodx.patients.ask --cases ddxplus:/data/ddxplus --index 3
    {"question": "Do you have a fever?", "reply": "Yes, I have a fever.",
     "matched": [{"finding": "E_91", "present": true, "value": "Yes, I have a fever."}]}

`--index` is the row of a DDXPlus patients CSV or the case of a JSONL file (0 = first), or the
position in a sampled stream (`kb`, `ddxplus-sample:`). The hidden diagnosis is never printed.
"""

from __future__ import annotations

import json
import sys

from grpodx.cases.sources import ReplayedCases, case_source, ddxplus_cases
from grpodx.cases import Case
from grpodx.entry import entry_parser
from grpodx.errors import ConfigError, one_line_errors
from grpodx.patients.offline import OfflinePatient


def load_case(cases: str, index: int, patients: str | None = None, seed: int = 0) -> Case:
    """The case at `index` of a source, by its recorded position where it has one."""
    if patients is not None:
        if not cases.startswith("ddxplus:"):
            raise ConfigError("--patients", "only goes with --cases ddxplus:DIR", "drop --patients")
        source = ddxplus_cases(cases.partition(":")[2], patients)
    else:
        source = case_source(cases)
    if isinstance(source, ReplayedCases):
        if not 0 <= index < source.count:
            raise ConfigError("--index", f"{index} is outside 0..{source.count - 1}", "pick an existing case")
        return source.build(index)
    if index < 0:
        raise ConfigError("--index", f"{index} is negative", "use 0 or more")
    return source.train_case(index, seed)


def main(argv: list[str] | None = None) -> int:
    parser = entry_parser("python -m grpodx.patients.ask", __doc__.split("\n")[0])
    parser.add_argument("--cases", required=True, help="kb, ddxplus:PATH, ddxplus-sample:PATH or jsonl:PATH")
    parser.add_argument("--index", type=int, required=True, help="which case (0 = first)")
    parser.add_argument("--patients", help="a DDXPlus patients CSV to read with the release files of --cases")
    parser.add_argument("--seed", type=int, default=0, help="seed of sampled sources")
    with one_line_errors("python -m grpodx.patients.ask --help"):
        args = parser.parse_args(argv)
        case = load_case(args.cases, args.index, args.patients, args.seed)
    print(f"case {case.case_id}: {case.opening_statement}", file=sys.stderr)
    patient = OfflinePatient()
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        reply = patient.reply(case, question, [])
        matched = [{"finding": m.finding, "present": m.present, "value": m.value} for m in reply.matched]
        print(json.dumps({"question": question, "reply": reply.text, "matched": matched}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
