"""DKIM signatures (RFC 6376) on what leaves: the last step before a transport speaks.

Signing happens here, after everything that writes a copy (list headers, subject prefix,
footer, DMARC rewriting), so the signature covers what the recipient gets. A stored
message goes to many members with the same bytes (VERP changes only the envelope): each
distinct message is signed once and its signature reused for every copy, in this batch
and the next few. A message that cannot be signed still leaves, unsigned, with a warning.
"""

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

from mailbot.config import ListConfig
from mailbot.config.dkim import DkimKey
from mailbot.outbound.sender import Report, Transport
from mailbot.storage.deliveries import Job

log = logging.getLogger(__name__)

# Signed as many times as they appear plus once more, so none can be added on the way
# without breaking the signature (RFC 6376 §8.15). RFC 8058 §4: the one-click headers
# must be covered by the signature.
OVERSIGNED = (b"from", b"subject", b"list-id", b"list-post", b"list-unsubscribe",
              b"list-unsubscribe-post")
REMEMBERED = 32  # signed messages kept for the next batches of the same fan-out


def build_signature(raw: bytes, key: DkimKey) -> bytes:
    """The `DKIM-Signature:` header line (CRLF-terminated) for `raw`. Relaxed
    canonicalization of header and body: what survives re-folding and trailing spaces.
    (dkimpy is imported here: daemons that sign nothing never load it.)"""
    import dkim

    signer = dkim.DKIM(raw, linesep=b"\r\n")
    signer.should_sign.add(b"list-unsubscribe-post")
    signer.add_frozen(OVERSIGNED)
    signature: bytes = signer.sign(key.selector.encode(), key.domain.encode(), key.key,
                                   canonicalize=(b"relaxed", b"relaxed"))
    return signature


class Signer:
    """Signs the jobs of lists that have a key; remembers the last messages it signed."""

    def __init__(self, lists: Sequence[ListConfig]) -> None:
        self.keys = {m.name: m.dkim for m in lists if m.dkim is not None}
        self._signed: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()
        self.signatures = 0  # how many times RSA was asked (the rest came from memory)

    def sign_jobs(self, jobs: Sequence[Job]) -> list[Job]:
        return [self._sign(job) for job in jobs]

    def _sign(self, job: Job) -> Job:
        key = self.keys.get(job.list_name)
        if key is None:
            return job
        seen = (job.list_name, job.raw)
        signed = self._signed.get(seen)
        if signed is None:
            signed = self._signed[seen] = self._signed_copy(job, key)
            if len(self._signed) > REMEMBERED:
                self._signed.popitem(last=False)
        return replace(job, raw=signed)

    def _signed_copy(self, job: Job, key: DkimKey) -> bytes:
        import dkim

        try:
            signature = build_signature(job.raw, key)
        except dkim.DKIMException as exc:
            log.warning("outbound message %s of list %s leaves unsigned: %s",
                        job.outbound_id, job.list_name, exc)
            return job.raw
        self.signatures += 1
        return signature + job.raw


class SigningTransport:
    """A transport that signs every job before handing it to the real one."""

    def __init__(self, inner: Transport, signer: Signer) -> None:
        self.inner, self.signer = inner, signer

    async def deliver(self, jobs: Sequence[Job], report: Report) -> None:
        # RSA in pure Python: off the event loop, so listeners keep answering meanwhile
        signed = await asyncio.to_thread(self.signer.sign_jobs, jobs)
        await self.inner.deliver(signed, report)

    async def release(self) -> None:
        await self.inner.release()


def with_signing(transport: Transport, lists: Sequence[ListConfig]) -> Transport:
    """`transport`, signing the mail of every list that has a DKIM key."""
    if not any(m.dkim is not None for m in lists):
        return transport
    return SigningTransport(transport, Signer(lists))
