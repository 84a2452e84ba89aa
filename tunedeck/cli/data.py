"""`tunedeck data …`: validate, stats, convert and split fine-tuning datasets."""

from __future__ import annotations

import typer

app = typer.Typer(help="Validate, inspect, convert and split fine-tuning datasets.", no_args_is_help=True)
