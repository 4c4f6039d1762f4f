"""Exchange: offers, requests, and a time ledger (60 points = 1 hour by default)."""
