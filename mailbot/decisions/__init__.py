"""Decisions: proposals adopted after a period of silence unless someone objects."""
