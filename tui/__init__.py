"""The Textual terminal UI (a later issue); it calls the same core as the CLI."""
