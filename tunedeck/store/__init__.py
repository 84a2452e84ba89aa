"""The job store: one SQLite database recording everything tunedeck creates, with migrations."""
