from tunedeck.cli.entry import run

run()
