"""The provider chain: one Protocol (`base.LLMProvider`), its providers, and the fallback loop."""
