"""tunedeck: prepare data, provision, fine-tune, test and tear down LLMs from one place."""

__version__ = "0.1.0"
