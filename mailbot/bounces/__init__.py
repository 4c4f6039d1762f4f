"""Bounces: reading DSNs and non-standard failure reports (reading.py), scoring members and
suspending delivery (scoring.py)."""
