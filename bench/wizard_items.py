"""How long the console's restore wizard takes to show the first level of a set's items.

    python bench/wizard_items.py HOME STORE

Opens the real wizard offscreen on the latest set of STORE, moves to the items page and
prints the seconds from entering the page until its first rows are in the tree (the
scale bench runs it as a child to take its peak RSS too).
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from strongroom.core.engine import Engine  # noqa: E402
from strongroom.core.paths import resolve_paths  # noqa: E402
from strongroom.gui.wizards.restore_wizard import RestoreWizard  # noqa: E402

TIMEOUT = 120.0


def main() -> int:
    home, store = sys.argv[1], sys.argv[2]
    app = QApplication([])
    wizard = RestoreWizard(Engine(resolve_paths(home)), store)
    wizard.show()
    wizard.next()  # the set page: the latest set is chosen
    started = time.perf_counter()
    wizard.next()  # the items page starts reading the set
    model = wizard.items_page.model
    while model.rowCount() == 0:
        app.processEvents()
        if time.perf_counter() - started > TIMEOUT:
            print(f"no rows after {TIMEOUT} s: {wizard.items_page.status.text()}", file=sys.stderr)
            return 1
        time.sleep(0.001)
    app.processEvents()
    print(f"{time.perf_counter() - started:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
