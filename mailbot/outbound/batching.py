"""Grouping deliveries into SMTP transactions: one MAIL FROM, several RCPT TO.

Copies of one stored message with the same envelope sender (no VERP, see
`outbound.verp`) to the same domain share a transaction, up to `outbound.batch_recipients`
RCPTs, so the receiving server is asked once. With VERP each recipient has an envelope of
its own and every transaction carries one RCPT. Pure; the order of jobs is kept.
"""

from collections.abc import Sequence

from mailbot.storage.deliveries import Job


def build_batches(jobs: Sequence[Job], limit: int) -> list[list[Job]]:
    batches: list[list[Job]] = []
    open_batches: dict[tuple[int, str, str], list[Job]] = {}
    for job in jobs:
        key = (job.outbound_id, job.envelope_from, job.rcpt.rpartition("@")[2].lower())
        batch = open_batches.get(key)
        if batch is None or len(batch) >= limit:
            batch = []
            batches.append(batch)
            open_batches[key] = batch
        batch.append(job)
    return batches
