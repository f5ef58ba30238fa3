"""Where an API patient or judge sends its chat calls, and how hard it tries."""

from __future__ import annotations

import os
from dataclasses import dataclass

from grpodx.errors import ConfigError

NO_KEY = "EMPTY"  # what vLLM, Ollama and llama.cpp accept when they were started without a key


@dataclass(frozen=True)
class Endpoint:
    """A chat-completions model on the OpenAI API (base_url None) or an OpenAI-compatible server.

    `api_key_env` names the environment variable holding the key (`--openai-api-key` sets
    OPENAI_API_KEY); None means the server needs no key, allowed only with a base_url. The key
    itself is never a field: LightningCLI writes every init arg to config.yaml.
    """

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    temperature: float = 0.7
    max_tokens: int = 256
    timeout: float = 60.0
    max_retries: int = 3
    max_concurrency: int = 16
    api_key_env: str | None = "OPENAI_API_KEY"

    def validate(self, field: str) -> None:
        """Reject bad values at start-up; `field` is the init_args path, e.g. model.init_args.judge.init_args."""
        checks = [
            ("model", bool(self.model.strip()), "must not be empty", "use e.g. gpt-4o-mini"),
            ("base_url", self.base_url is None or self.base_url.startswith(("http://", "https://")),
             f"must start with http:// or https://, got {self.base_url!r}", "use e.g. http://127.0.0.1:8000/v1"),
            ("temperature", 0 <= self.temperature <= 2, f"must be in [0, 2], got {self.temperature}", "use e.g. 0.7"),
            ("max_tokens", self.max_tokens >= 1, f"must be >= 1, got {self.max_tokens}", "use e.g. 256"),
            ("timeout", self.timeout > 0, f"must be > 0 seconds, got {self.timeout}", "use e.g. 60"),
            ("max_retries", self.max_retries >= 0, f"must be >= 0, got {self.max_retries}", "use e.g. 3"),
            ("max_concurrency", self.max_concurrency >= 1, f"must be >= 1, got {self.max_concurrency}",
             "use e.g. 16"),
        ]
        for name, ok, problem, fix in checks:
            if not ok:
                raise ConfigError(f"{field}.{name}", problem, fix)

    def api_key(self, field: str) -> str:
        """The key from the environment, read once at construction; a missing key fails start-up."""
        if self.api_key_env is None:
            if self.base_url is None:
                raise ConfigError(f"{field}.api_key_env", "the OpenAI API needs a key",
                                  "use api_key_env: OPENAI_API_KEY, or set base_url to a server that needs none")
            return NO_KEY
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            flag = " or pass --openai-api-key KEY" if self.api_key_env == "OPENAI_API_KEY" else ""
            raise ConfigError(f"{field}.api_key_env", f"{self.api_key_env} is not set",
                              f"export {self.api_key_env}=...{flag} (a local server without a key: api_key_env: null)")
        return key
