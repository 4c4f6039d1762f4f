"""Storage: the database is both the record and the queue."""
