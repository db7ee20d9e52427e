"""Icons: the application icon from resources/, and state badges drawn in code.

A badge is a filled circle with a white glyph. The fill colours are mid-tone, so the
badge reads on light and dark window backgrounds alike, and every badge comes with a
word beside it, so colour is never the only signal.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap

STATE_COLOURS = {
    "free": "#2e7d32",  # green
    "held": "#1565c0",  # blue
    "stale": "#c62828",  # red
    "unknown": "#6a6a6a",  # grey
    "queued": "#6a6a6a",
    "waiting": "#e65100",  # orange
    "running": "#1565c0",
    "succeeded": "#2e7d32",
    "succeeded-with-warnings": "#b26a00",  # amber
    "failed": "#c62828",
    "cancelled": "#6a6a6a",
    "fresh": "#2e7d32",  # a store's health (core/health.py)
    "warning": "#b26a00",
    "critical": "#c62828",
}

GLYPHS = {
    "free": "✓", "held": "●", "stale": "!", "unknown": "?", "queued": "…", "waiting": "⏸", "running": "▶",
    "succeeded": "✓", "succeeded-with-warnings": "!", "failed": "✕", "cancelled": "–",
    "fresh": "✓", "warning": "!", "critical": "✕",
}


def state_colour(state: str) -> QColor:
    return QColor(STATE_COLOURS.get(state, "#6a6a6a"))


@cache
def state_icon(state: str, size: int = 16) -> QIcon:
    icon = QIcon()
    for scale in (1, 2):
        icon.addPixmap(_badge(state, size * scale))
    return icon


def warm_state_icons(context: QObject) -> None:
    """Draw every state's badge ahead of need, one per pass of the event loop once it runs.

    Drawn on first use, a badge took 3-6 ms (the glyph's font is looked up the first time):
    20-40 ms of the window's thread in the first paint after a batch of jobs started.
    """
    pending = list(STATE_COLOURS)

    def draw_next() -> None:
        if pending:
            state_icon(pending.pop(0))
            QTimer.singleShot(0, context, draw_next)

    QTimer.singleShot(0, context, draw_next)


def _badge(state: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(255, 255, 255, 200), max(1.0, size / 16)))
    painter.setBrush(state_colour(state))
    margin = size / 16
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.62))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, size, size).translated(QPointF(0, -size / 32)), Qt.AlignmentFlag.AlignCenter,
                     GLYPHS.get(state, "?"))
    painter.end()
    return pixmap


@cache
def app_icon() -> QIcon:
    """Strongroom's icon (an SVG in resources/, with PNG renderings for platforms that want them)."""
    icon = QIcon()
    folder = resources.files("strongroom.resources") / "icons"
    for name in ("strongroom.svg", "strongroom-256.png", "strongroom-64.png"):
        item = folder / name
        if item.is_file():
            with resources.as_file(item) as path:
                icon.addFile(str(path))
    return icon
