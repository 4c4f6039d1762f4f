"""Digests: when they leave and what they hold (schedule.py, pure), and sending them
(delivery.py)."""
