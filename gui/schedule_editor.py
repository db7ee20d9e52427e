"""A schedule as an administrator sets it: every hour, every day at a time, some weekdays at a time,
or a cron expression — with the next runs shown as it is edited."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QTimeEdit, QVBoxLayout,
                               QWidget)

from ..core.plans.schedule import Schedule, ScheduleError

KINDS = ("Every hour", "Every day", "Some days of the week", "Custom (cron)")
HOURLY, DAILY, WEEKLY, CUSTOM = range(len(KINDS))
DAYS = (("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"), ("sat", "Sat"),
        ("sun", "Sun"))


class ScheduleEditor(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox(self)
        self.kind.setObjectName("scheduleKind")
        self.kind.addItems(KINDS)
        self.at = QTimeEdit(QTime(2, 30), self)
        self.at.setObjectName("scheduleTime")
        self.at.setDisplayFormat("HH:mm")
        self.days = {key: QCheckBox(label, self) for key, label in DAYS}
        for key in ("mon", "tue", "wed", "thu", "fri"):
            self.days[key].setChecked(True)
        self.cron = QLineEdit(self)
        self.cron.setObjectName("scheduleCron")
        self.cron.setPlaceholderText("minute hour day month weekday, e.g. 30 2 * * *")
        self.preview = QLabel(self)
        self.preview.setObjectName("schedulePreview")
        self.preview.setWordWrap(True)
        first = QHBoxLayout()
        first.addWidget(self.kind)
        self.at_label = QLabel("at", self)
        first.addWidget(self.at_label)
        first.addWidget(self.at)
        first.addWidget(self.cron, 1)
        first.addStretch(0)
        days_row = QHBoxLayout()
        for box in self.days.values():
            days_row.addWidget(box)
            box.toggled.connect(self._changed)
        days_row.addStretch(1)
        self.days_row = QWidget(self)
        self.days_row.setLayout(days_row)
        days_row.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(first)
        layout.addWidget(self.days_row)
        layout.addWidget(self.preview)
        self.kind.setCurrentIndex(DAILY)
        self.kind.currentIndexChanged.connect(self._changed)
        self.at.timeChanged.connect(self._changed)
        self.cron.textChanged.connect(self._changed)
        self._changed()

    def text(self) -> str:
        """The schedule in the words ``Schedule`` reads (a friendly form or cron)."""
        kind = self.kind.currentIndex()
        at = self.at.time().toString("HH:mm")
        if kind == HOURLY:
            return "hourly"
        if kind == DAILY:
            return f"daily {at}"
        if kind == WEEKLY:
            days = [key for key, box in self.days.items() if box.isChecked()]
            return f"weekly {','.join(days) or '-'} {at}"
        return self.cron.text().strip()

    def schedule(self) -> Schedule:
        """The schedule as set; ScheduleError says what is wrong."""
        if self.kind.currentIndex() == WEEKLY and not any(box.isChecked() for box in self.days.values()):
            raise ScheduleError("tick at least one day of the week")
        return Schedule(self.text())

    def set_expression(self, expression: str) -> None:
        """Show a stored cron expression in the simplest form that says it."""
        fields = expression.split()
        if fields == ["0", "*", "*", "*", "*"]:
            self.kind.setCurrentIndex(HOURLY)
        elif len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2:4] == ["*", "*"] and (
                fields[4] == "*" or all(day in dict(DAYS) for day in fields[4].split(","))):
            self.at.setTime(QTime(int(fields[1]), int(fields[0])))
            if fields[4] == "*":
                self.kind.setCurrentIndex(DAILY)
            else:
                for key, box in self.days.items():
                    box.setChecked(key in fields[4].split(","))
                self.kind.setCurrentIndex(WEEKLY)
        else:
            self.cron.setText(expression)
            self.kind.setCurrentIndex(CUSTOM)
        self._changed()

    def problem(self) -> str:
        try:
            self.schedule()
        except ScheduleError as error:
            return str(error)
        return ""

    def _changed(self) -> None:
        kind = self.kind.currentIndex()
        self.at.setVisible(kind in (DAILY, WEEKLY))
        self.at_label.setVisible(kind in (DAILY, WEEKLY))
        self.days_row.setVisible(kind == WEEKLY)
        self.cron.setVisible(kind == CUSTOM)
        try:
            schedule = self.schedule()
        except ScheduleError as error:
            self.preview.setText(f"<span style='color:#c62828'>{error}</span>")
        else:
            moment, upcoming = datetime.now(timezone.utc), []
            for _ in range(3):
                moment = schedule.next_after(moment)
                upcoming.append(moment.astimezone(schedule.zone).strftime("%a %d %b %H:%M"))
            self.preview.setText(f"{schedule.describe().capitalize()} — next: {', '.join(upcoming)}")
        self.changed.emit()
