"""The dataset toolkit: read, validate, count, convert and split fine-tuning data."""
