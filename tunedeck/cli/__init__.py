"""The `tunedeck` command line: one subcommand group per area, all calling the shared core."""
