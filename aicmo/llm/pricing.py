"""USD prices per million tokens (input, output), and per image. The one place costs come from.

A model missing here costs `None` and the call carries a warning: never a silent 0.
"""

from decimal import Decimal

PER_MILLION_TOKENS: dict[str, tuple[Decimal, Decimal]] = {
    "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1-nano": (Decimal("0.10"), Decimal("0.40")),
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "claude-sonnet-4-6": (Decimal("3.00"), Decimal("15.00")),
    "claude-sonnet-4-5": (Decimal("3.00"), Decimal("15.00")),
    "claude-haiku-4-5": (Decimal("1.00"), Decimal("5.00")),
    "claude-opus-4-1": (Decimal("15.00"), Decimal("75.00")),
    "llama-3.3-70b-versatile": (Decimal("0.59"), Decimal("0.79")),
    "llama-3.1-8b-instant": (Decimal("0.05"), Decimal("0.08")),
    "offline-templates-v1": (Decimal("0"), Decimal("0")),
}
PER_IMAGE: dict[str, Decimal] = {
    "gpt-image-1": Decimal("0.042"),
    "dall-e-3": Decimal("0.040"),
    "offline-pillow-v1": Decimal("0"),
}
FREE_PROVIDERS = {"offline", "ollama"}  # local models cost nothing whatever their name


def token_cost(provider: str, model: str, tokens_in: int, tokens_out: int) -> Decimal | None:
    if provider in FREE_PROVIDERS:
        return Decimal("0")
    prices = PER_MILLION_TOKENS.get(model)
    if prices is None:
        return None
    price_in, price_out = prices
    return ((price_in * tokens_in + price_out * tokens_out) / Decimal(1_000_000)).quantize(Decimal("0.000001"))


def image_cost(provider: str, model: str) -> Decimal | None:
    if provider in FREE_PROVIDERS:
        return Decimal("0")
    return PER_IMAGE.get(model)


def unknown_price_warning(provider: str, model: str) -> str:
    return f"No price is known for {provider}/{model}: its cost is not counted."
