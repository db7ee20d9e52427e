"""The About box: the version, and where this console's catalog, target, locks and settings are."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from .. import core
from ..core.engine import Engine
from ..core.stores import driver_names


def show_about(parent: QWidget, engine: Engine) -> None:
    paths = engine.paths
    QMessageBox.about(parent, "About Strongroom", (
        f"<h3>Strongroom {core.__version__}</h3>"
        f"<p>A backup console for {', '.join(driver_names())} stores. Every job holds the mutex of its store "
        "type while it touches the store, so different store types never wait for each other.</p>"
        f"<p>Catalog: <code>{paths.catalog}</code><br>Default target: <code>{engine.default_target}"
        f"</code><br>Locks: <code>{paths.lock_dir}</code> ({paths.lock_scope} scope)<br>"
        f"Settings: <code>{paths.settings}</code></p>"))
