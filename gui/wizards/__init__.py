"""The backup and restore wizards (QWizard): they only gather choices; jobs run elsewhere."""
