"""A hostile local user's process: swap a folder for a link to somewhere else, again and again.

``python tests/racer.py FOLDER TARGET SWAPS STOP`` renames FOLDER aside, puts a symbolic link
to TARGET in its place, and puts the folder back, as fast as it can, until it has made SWAPS
swaps or the file STOP exists; it prints "racing" when it starts and how many swaps it made
when it ends. Run as an unprivileged user while root backs up or restores through FOLDER's
parent. A FOLDER that does not exist yet (one a restore is about to make) is waited for.
"""

from __future__ import annotations

import os
import sys
import time


PAUSE = 0.0002


def main() -> None:
    folder, target, swaps, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    aside = folder + ".aside"
    print("racing", flush=True)
    done = tries = 0
    deadline = time.monotonic() + 120  # bounded even if nobody says stop
    while done < swaps:
        tries += 1
        if tries % 64 == 0 and (os.path.exists(stop) or time.monotonic() > deadline):
            break
        try:
            os.rename(folder, aside)
            os.symlink(target, folder)
            time.sleep(PAUSE)  # the link stays a moment, as long as the folder does
            os.unlink(folder)
            os.rename(aside, folder)
            done += 1
            time.sleep(PAUSE)  # pacing the attack, not synchronisation
        except OSError:
            try:  # whatever state the last round left, put the folder back
                if os.path.islink(folder):
                    os.unlink(folder)
                if os.path.isdir(aside):
                    os.rename(aside, folder)
            except OSError:
                pass
    print(done, flush=True)


if __name__ == "__main__":
    main()
