"""The embedded local backend: LoRA fine-tuning of SmolLM2 served behind OpenAI- and Anthropic-style APIs."""
