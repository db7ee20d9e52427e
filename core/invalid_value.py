"""A value the user gave that the core refuses: an option, a setting, a field of a dialog or a plan.

Its message names the value and what is allowed. It is a ValueError, so code that checks
values the usual way still catches it; but the front ends catch this class, not every
ValueError, so that a ValueError from a bug is reported as one (core/expected_errors.py).
"""

from __future__ import annotations


class InvalidValue(ValueError):
    """A value given by the user that the core refuses; the message names it and what is allowed."""
