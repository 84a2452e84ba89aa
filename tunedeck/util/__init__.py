"""Small utilities with no tunedeck dependencies: atomic file writes and the SQLite connection conventions."""
