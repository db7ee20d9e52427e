"""Table cells drawn as widgets: a progress bar per job, and a push button per row.

Delegates paint with the current style instead of creating a widget per row, so a
table of hundreds of jobs costs nothing until it is shown. They ask the model's Python
``data`` directly (``value``), which skips a round trip through QVariant on every paint.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionButton, QStyleOptionProgressBar


def value(index: QModelIndex, role: int = 0):
    """``index.data(role)`` without converting through QVariant (see the module's docstring)."""
    return index.model().data(index, role)


class ProgressDelegate(QStyledItemDelegate):
    """Draws the float in ``fraction_role`` (0..1) as a progress bar; None draws nothing."""

    def __init__(self, fraction_role: int, parent=None) -> None:
        super().__init__(parent)
        self.fraction_role = fraction_role

    def paint(self, painter, option, index: QModelIndex) -> None:
        fraction = value(index, self.fraction_role)
        if fraction is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 3, -3, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(fraction * 1000)
        bar.text = f"{fraction:.0%}"
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class ButtonDelegate(QStyledItemDelegate):
    """A push button with the cell's text, shown where ``enabled_role`` is true; emits ``clicked``."""

    clicked = Signal(QModelIndex)

    def __init__(self, enabled_role: int, parent=None) -> None:
        super().__init__(parent)
        self.enabled_role = enabled_role
        self._pressed: QModelIndex | None = None

    def _button(self, option, index: QModelIndex) -> QStyleOptionButton:
        button = QStyleOptionButton()
        button.rect = QRect(option.rect.adjusted(2, 2, -2, -2))
        button.text = str(value(index) or "")
        button.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Raised
        if self._pressed is not None and self._pressed == index:
            button.state |= QStyle.StateFlag.State_Sunken
        return button

    def paint(self, painter, option, index: QModelIndex) -> None:
        if not value(index, self.enabled_role):
            return
        QApplication.style().drawControl(QStyle.ControlElement.CE_PushButton, self._button(option, index), painter)

    def sizeHint(self, option, index: QModelIndex):
        hint = super().sizeHint(option, index)
        hint.setWidth(max(hint.width(), option.fontMetrics.horizontalAdvance(str(value(index) or "")) + 24))
        return hint

    def editorEvent(self, event, model, option, index: QModelIndex) -> bool:
        if not value(index, self.enabled_role) or not isinstance(event, QMouseEvent):
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if event.type() == QEvent.Type.MouseButtonPress:
            self._pressed = QModelIndex(index)
            return True
        if event.type() == QEvent.Type.MouseButtonRelease:
            was_pressed = self._pressed == index
            self._pressed = None
            if was_pressed and option.rect.contains(event.position().toPoint()):
                self.clicked.emit(QModelIndex(index))
            return True
        return False
