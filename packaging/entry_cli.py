"""Bundle entry point for `strongroom` (the command line)."""

from strongroom.core.child_process import run_if_child

if __name__ == "__main__":
    run_if_child()  # a job or a folder backup's count, started by this program (core/child_process.py)
    from strongroom.core.cli.main import run

    run()
