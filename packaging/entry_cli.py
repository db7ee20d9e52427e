"""Bundle entry point for `strongroom` (the command line)."""

from strongroom.core.cli.main import run

if __name__ == "__main__":
    run()
