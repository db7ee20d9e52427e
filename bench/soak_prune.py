"""The soak's prune worker: prunes beside every other job, in the soak's process and as CLI runs, some killed."""

from __future__ import annotations

import random
import sys
import time

from soak_faults import CLI, run_maybe_killed

from strongroom.core.retention.policy import RetentionPolicy
from strongroom.core.retention.prune import prune

PRUNE_KEEP = 6  # sets kept per store by each prune run (besides chains and the newest)
KILL_SHARE = 0.5  # of the CLI prune runs


def prune_worker(soak) -> None:
    """Prunes alongside everything else, in this process and as killed and unkilled CLI runs."""
    rng = random.Random(soak.seed + 11)
    while time.monotonic() < soak.deadline:
        soak.world.stop.wait(rng.uniform(1.5, 3.5))  # a pace, not a synchronisation
        if rng.random() < 0.5:
            report = prune(soak.engine, overrides=RetentionPolicy(keep_last=PRUNE_KEEP))
            soak.count("prune runs (thread)")
            soak.count("sets pruned", report.removed)
            continue
        kill = rng.random() < KILL_SHARE
        process, output = run_maybe_killed([*CLI, "--home", str(soak.home), "prune", "--keep-last", str(PRUNE_KEEP)],
                                           rng.uniform(0.1, 0.8) if kill else None)
        if output is None:
            soak.count("prune runs killed")
            continue
        soak.count("prune runs (process)")
        if process.returncode != 0:
            soak.count("unexpected job failures")
            print(f"  prune failed: {output.strip()[-300:]}", file=sys.stderr)
