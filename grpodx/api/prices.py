"""What a chat call costs: US dollars per 1M input and output tokens, per model."""

from __future__ import annotations

from dataclasses import dataclass

from grpodx.errors import ConfigError


@dataclass(frozen=True)
class Price:
    """USD per 1M prompt (input) and completion (output) tokens."""

    input: float
    output: float


# OpenAI list prices (standard tier). A local server's model is not listed and costs 0; override or
# extend with the `prices` init arg, e.g. {gpt-4o-mini: {input: 0.15, output: 0.6}}.
DEFAULT_PRICES = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
}


class PriceTable:
    """Looks a model up by exact name, else by the longest listed prefix (dated snapshots such as
    gpt-4o-mini-2024-07-18 cost what their family costs); unknown models cost 0."""

    def __init__(self, overrides: dict[str, dict[str, float]] | None = None, field: str = "prices"):
        self.prices = dict(DEFAULT_PRICES)
        for model, price in (overrides or {}).items():
            if set(price) != {"input", "output"} or min(price.values()) < 0:
                raise ConfigError(f"{field}.{model}", f"needs input and output prices >= 0, got {price}",
                                  "write {input: USD_PER_1M_PROMPT_TOKENS, output: USD_PER_1M_COMPLETION_TOKENS}")
            self.prices[model] = Price(float(price["input"]), float(price["output"]))

    def price(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        family = [name for name in self.prices if model.startswith(name + "-")]
        return self.prices[max(family, key=len)] if family else None

    def cost_usd(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.price(model)
        if price is None:
            return 0.0
        return (prompt_tokens * price.input + completion_tokens * price.output) / 1e6
