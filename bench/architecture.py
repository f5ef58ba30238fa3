"""How the house is laid out: import levels, arrows that run back up, lines per file.

    python -m bench.architecture [--root DIR]

Reads the source as text (nothing is imported or run). Units are the top-level parts of grpodx
(a package such as `cases` or `patients`, or a module such as `environment`) plus `callbacks`.
- imports are those that run at load time (function-local and TYPE_CHECKING imports are not);
- level: a module that imports nothing of ours is level 0; otherwise 1 + the highest level it
  imports (a cycle would make levels undefined: it is reported instead);
- arrows back up: where two units import each other, the module imports of the direction with
  fewer of them (the case wing importing the patients, while the patients read cases);
- lines: the longest files and the mean.
Prints a JSON line. Duplicated blocks come from the library's `duplicates` tool (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import ast
import json
from collections import defaultdict
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in ("grpodx", "callbacks"):
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _module_level(tree: ast.Module):
    """Import statements that run when the module loads (not those inside functions: lazy)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)) and not _type_checking(node):
            stack += node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", []) + \
                [n for h in getattr(node, "handlers", []) for n in h.body]


def _type_checking(node) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, known: set[str]) -> set[str]:
    """Our modules imported by `path` at load time (an `import a.b` or `from a.b import c` names a.b,
    or a.b.c when that is a module of ours)."""
    out = set()
    for node in _module_level(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        out |= {n for n in names if n in known}
    return out


# the case domain before it became one package (issue 13), counted as one unit so layouts compare
CASE_WING = {"cases", "case_sources", "case_vocabulary", "vignettes", "knowledge", "ddxplus"}


def unit(module: str) -> str:
    parts = module.split(".")
    name = parts[0] if parts[0] == "callbacks" or len(parts) == 1 else parts[1]
    return "cases" if name in CASE_WING else name


def measure(root: Path) -> dict:
    found = modules(root)
    graph = {m: imports(p, set(found)) - {m} for m, p in found.items()}
    levels: dict[str, int] = {}
    cycle: list[str] = []

    def level(m: str, stack: tuple[str, ...] = ()) -> int:
        if m in levels:
            return levels[m]
        if m in stack:
            cycle[:] = list(stack[stack.index(m):]) + [m]
            return 0
        # a package's __init__ importing its own submodules is not an arrow between modules
        deps = [d for d in graph[m] if not d.startswith(m + ".")]
        levels[m] = 1 + max((level(d, stack + (m,)) for d in deps), default=-1)
        return levels[m]

    for m in graph:
        level(m)
    between = defaultdict(list)
    for m, deps in graph.items():
        for d in deps:
            if unit(m) != unit(d):
                between[(unit(m), unit(d))].append(f"{m} -> {d}")
    back = []
    for (a, b), edges in between.items():
        reverse = between.get((b, a), [])
        if reverse and (len(edges), a) < (len(reverse), b):
            back += edges
    lines = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in found.values()}
    longest = sorted(lines.items(), key=lambda kv: -kv[1])[:5]
    return {"modules": len(found), "max_level": max(levels.values()), "cycle": cycle,
            "arrows_back_up": sorted(back), "longest_files": longest,
            "mean_lines": round(sum(lines.values()) / len(lines), 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]), help="a checkout (default: this one)")
    print(json.dumps(measure(Path(parser.parse_args(argv).root))))


if __name__ == "__main__":
    main()
