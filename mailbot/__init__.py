"""mailbot: an email-first collaboration bot for associations and exchange systems."""

__version__ = "0.1.0"
