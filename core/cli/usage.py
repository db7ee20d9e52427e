"""The usage error shared by every command (exit 2, one line)."""


class UsageError(Exception):
    """A command line that cannot be carried out as written."""
