"""Package data for the console and the installers: icons, the .desktop entry, styles."""
