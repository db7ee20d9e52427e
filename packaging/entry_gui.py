"""Bundle entry point for `strongroom-gui` (the console)."""

from strongroom.gui.app import run

if __name__ == "__main__":
    run()
