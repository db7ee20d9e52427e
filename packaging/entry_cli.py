"""Bundle entry point for `strongroom` (the command line)."""

import multiprocessing

from strongroom.core.cli.main import run

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a folder backup's count child starts this bundle again
    run()
