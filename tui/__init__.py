"""The Textual terminal UI (bare `tunedeck`): the same workspace core as the CLI, shown live."""
