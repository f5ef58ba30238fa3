"""Byte offsets of a validated line-per-record file (a DDXPlus patients CSV, a JSONL file), computed
once and cached, so a million-patient file opens in seconds on every run, resume and DDP rank.

The cache entry lives under $GRPODX_CACHE/line-index/, keyed by what was validated (`kind`, the
release files it was checked against, this module's version) and the file's identity: its size,
its modification time and a hash of its first and last MiB. A changed file gets a new key, so it is
validated again; a cached index records that the file WAS validated, it never stands in for that.
Under DDP, rank 0 builds it while the other ranks wait and then read it (written atomically).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from array import array
from collections.abc import Callable
from pathlib import Path

from grpodx.cache import cache_root
from grpodx.errors import ConfigError

VERSION = 1  # bump when what a validation accepts changes: old entries are then never read
_EDGE = 1 << 20
WAIT_S = 1800.0  # how long a non-zero rank waits for rank 0's index


def file_identity(path: Path) -> str:
    stat = path.stat()
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        digest.update(handle.read(_EDGE))
        if stat.st_size > _EDGE:
            handle.seek(max(stat.st_size - _EDGE, _EDGE))
            digest.update(handle.read(_EDGE))
    return f"{stat.st_size}-{stat.st_mtime_ns}-{digest.hexdigest()[:16]}"


def cached_offsets(path: Path, kind: str, build: Callable[[], array], context: str = "") -> array:
    """The offsets `build()` validates and returns, from the cache when this file was seen before."""
    key = hashlib.sha1(f"{kind}|{VERSION}|{context}|{path.resolve()}|{file_identity(path)}".encode()).hexdigest()[:24]
    entry = cache_root() / "line-index" / f"{kind}-{key}.offsets"
    if not entry.is_file() and _rank() != 0:
        deadline = time.monotonic() + WAIT_S
        while not entry.is_file() and time.monotonic() < deadline:
            time.sleep(0.5)
    if entry.is_file():
        offsets = array("q")
        offsets.frombytes(entry.read_bytes())
        return offsets
    offsets = _without_gc(build)
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = entry.with_name(f".{entry.name}.{os.getpid()}.partial")
    staging.write_bytes(offsets.tobytes())
    os.replace(staging, entry)
    return offsets


def _without_gc(build: Callable[[], array]) -> array:
    """Run the one-pass validation with the cyclic GC paused: it allocates millions of short-lived
    objects, and each collection scans every object the process holds (~540k once torch, Lightning
    and transformers are imported). A 1,025,602-row DDXPlus file took ~80 s inside `train.py fit`,
    48.7 s with the GC paused (bench.data, BENCHMARKS.md); refcounting still frees each row."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return build()
    finally:
        if was_enabled:
            gc.enable()


def _rank() -> int:
    for variable in ("RANK", "LOCAL_RANK", "SLURM_PROCID"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return 0


def indexed_json_lines(path: Path, kind: str, check: Callable[[object, int], None], fix: str,
                       field: str) -> array:
    """(offset, line number) pairs, flat, of every record line of a JSONL file (blank lines and lines
    starting with '#' skipped), each checked by `check(parsed, line_number)` the first time; a bad
    line is one ConfigError naming `path:line`."""
    def build() -> array:
        entries = array("q")
        with path.open("rb") as handle:
            offset = 0
            for number, raw in enumerate(handle, start=1):
                text = raw.strip()
                if text and not text.startswith(b"#"):
                    try:
                        check(json.loads(raw), number)
                    except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
                        raise ConfigError(field, f"{path}:{number}: {error}", fix) from error
                    entries.extend((offset, number))
                offset += len(raw)
        return entries

    return cached_offsets(path, kind, build)


def json_line_at(path: Path, offset: int) -> object:
    with path.open("rb") as handle:
        handle.seek(offset)
        return json.loads(handle.readline())


def json_cases(path: Path | str, kind: str, parse: Callable[[object, str], object], formats: str,
               field: str) -> tuple[int, Callable[[int], object]]:
    """A JSONL file of cases as (count, build): every line validated once by `parse(raw, case_id)`
    (cached), then case `i` parsed from its line when asked for (case ids: `<stem>-<line>`).
    `formats` is the fix named in errors ("the format is in ...")."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(field, f"{path} not found", f"give a JSONL file: {kind}:/path/cases.jsonl")
    case_id = f"{kind}-{path.stem}-{{}}" if kind != "jsonl" else f"{path.stem}-{{}}"
    entries = indexed_json_lines(path, kind, lambda raw, number: parse(raw, case_id.format(number)),
                                 f"fix that line; {formats}", field)
    if not entries:
        raise ConfigError(field, f"{path} holds no cases", "add one JSON object per line")

    def build(index: int):
        if not 0 <= index < len(entries) // 2:
            raise IndexError(index)
        return parse(json_line_at(path, entries[2 * index]), case_id.format(entries[2 * index + 1]))

    return len(entries) // 2, build
