"""Profiles: personalization without fine-tuning (system prompt, few-shot, user facts, retrieval) for any chat model."""
