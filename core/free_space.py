"""How much room a folder that may not exist yet would have: that of its nearest existing parent.

The restore checks it before writing, the wizards show it, and a restore of several stores adds
up what each file system receives, so the folder's device is given too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Room:
    folder: Path  # the nearest existing folder of the one asked about
    device: int
    free: int  # bytes an unprivileged writer may still use
    total: int


def room_at(path: Path | str) -> Room | None:
    """The room where ``path`` is or would be created (None when nothing there can be read)."""
    place = Path(path).expanduser()
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        status = os.statvfs(place)
        device = os.stat(place).st_dev
    except OSError:
        return None
    return Room(place, device, status.f_bavail * status.f_frsize, status.f_blocks * status.f_frsize)
