"""Printable letters for members without email (issue 19): once a month, in large type."""
