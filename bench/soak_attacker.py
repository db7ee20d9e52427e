"""The soak's hostile local user, as one process running as that user until told to stop.

    python bench/soak_attacker.py LOCK_DIR DESTINATION_FOLDER OUTSIDE HOME_FOLDER SECRET STOP

In turn, as fast as it can until the file STOP exists:
- forges a waiter record naming pid 1 (with its real start time) in every waiting folder of
  the shared lock folder, with a ticket older than every real waiter's;
- swaps DESTINATION_FOLDER (a folder of a destination root restores into) for a link to
  OUTSIDE (root's folder that no restore may write into), and back;
- swaps HOME_FOLDER (a folder of a store root backs up) for a link to SECRET (a root-only
  folder), and back.
It prints "attacking" once started, and its counts when it stops.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from strongroom.core.identity import host_name, pid_namespace, process_start_token

PAUSE = 0.0005


def forge(lock_dir: Path) -> int:
    """One forged waiter record per waiting folder; how many were written."""
    now = time.time()
    record = {"format": 1, "store_type": "", "job_id": "forged-by-attacker", "operation": "backup", "store": "x",
              "host": host_name(), "pid": 1, "process_start": process_start_token(1),
              "pid_namespace": pid_namespace(), "thread": "MainThread", "thread_id": 1, "since": now - 60,
              "heartbeat": now, "ticket": 1}
    written = 0
    for folder in lock_dir.glob("strongroom.*.waiting"):
        record["store_type"] = folder.name.split(".")[1]
        try:
            (folder / f"{1:020d}-1-1.json").write_text(json.dumps(record))
            written += 1
        except OSError:
            pass
    return written


def swap(folder: Path, target: Path) -> bool:
    aside = folder.with_name(folder.name + ".aside")
    try:
        os.rename(folder, aside)
    except OSError:
        return False
    try:
        os.symlink(target, folder)
        time.sleep(PAUSE)
        os.unlink(folder)
    except OSError:
        pass
    finally:
        try:
            os.rename(aside, folder)
        except OSError:
            pass
    return True


def main() -> None:
    lock_dir, destination, outside, home, secret, stop = (Path(arg) for arg in sys.argv[1:7])
    counts = {"forged": 0, "destination swaps": 0, "store swaps": 0}
    print("attacking", flush=True)
    round_number = 0
    while not stop.exists():
        round_number += 1
        if round_number % 50 == 1:
            counts["forged"] += forge(lock_dir)
        counts["destination swaps"] += swap(destination, outside)
        counts["store swaps"] += swap(home, secret)
        time.sleep(PAUSE)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
