"""Due work, kept as database rows: deadlines, reminders, item renewals, bounce probes and
digests. The service's timer loop calls these a round at a time."""
