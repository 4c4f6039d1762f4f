"""What the worker does with a stored message: one handler per kind of address."""
