from tunedeck.cli.main import run

run()
