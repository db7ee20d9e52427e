"""Strongroom's desktop console: PySide6 widgets, models and QThread workers over
``strongroom.core``. Only this package imports Qt."""
