"""Inbound: listeners that only store what arrives (SMTP, LMTP, later IMAP)."""
