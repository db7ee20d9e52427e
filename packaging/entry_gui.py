"""Bundle entry point for `strongroom-gui` (the console)."""

import multiprocessing

from strongroom.gui.app import run

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a folder backup's count child starts this bundle again
    run()
