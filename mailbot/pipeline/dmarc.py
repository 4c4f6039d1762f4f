"""The DMARC policy of a post author's domain, asked over DNS, for `from_rewrite = "auto"`.

A list copy keeps the body but not the author's DKIM signature intact, so an author whose
domain publishes p=reject or p=quarantine would see members' providers refuse or bin it:
such posts get their From rewritten (RFC 7960 §4.1.3). The record is found by the DNS tree
walk of DMARCbis (draft-ietf-dmarc-dmarcbis §4.10), which needs no public suffix list.
Answers are cached for their TTL; a lookup that fails counts as "rewrite" (the safe side).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.nameserver
import dns.resolver

from mailbot.config import DnsConfig

log = logging.getLogger(__name__)

STRICT = ("reject", "quarantine")
MAX_LABELS = 8  # DMARCbis §4.10: from 8 labels on, the walk jumps to the rightmost 7
NEGATIVE_TTL = 3600.0  # no record: ask again in an hour
FAILURE_TTL = 60.0  # the DNS did not answer: ask again in a minute
MAX_TTL = 86400.0


@dataclass(frozen=True)
class Answer:
    policy: str | None  # "reject", "quarantine", "none"; None: no record; "unknown": no answer
    ttl: float


def parse_record(text: str) -> dict[str, str] | None:
    """Tags of a DMARC TXT record (`v=DMARC1; p=reject; …`), or None if it is not one."""
    tags = {}
    for part in text.split(";"):
        name, eq, value = part.partition("=")
        if eq:
            tags[name.strip().lower()] = value.strip().lower()
    return tags if tags.get("v") == "dmarc1" else None


def policy_of(records: list[str], *, for_subdomain: bool) -> str | None:
    """The policy the records set: `sp` applies when the record was found on a parent."""
    found = [tags for tags in map(parse_record, records) if tags is not None]
    if len(found) != 1:  # RFC 7489 §6.6.3: none, or more than one, means no policy
        return None
    tags = found[0]
    policy = tags.get("sp") if for_subdomain and "sp" in tags else tags.get("p")
    return policy if policy in ("reject", "quarantine", "none") else "none"


def walk(domain: str) -> list[str]:
    """The names whose `_dmarc` record may speak for `domain`, nearest first."""
    labels = domain.lower().strip(".").split(".")
    names = [".".join(labels)]
    if len(labels) >= MAX_LABELS:  # the next name asked is the rightmost seven labels
        labels = labels[-(MAX_LABELS - 1):]
        names.append(".".join(labels))
    while len(labels) > 2:
        labels = labels[1:]
        names.append(".".join(labels))
    return list(dict.fromkeys(names))


class DmarcPolicies:
    """Asks and caches; safe to share between threads."""

    def __init__(self, config: DnsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.resolver = dns.resolver.Resolver(configure=not config.nameservers)
        if config.nameservers:
            self.resolver.nameservers = [dns.nameserver.Do53Nameserver(s.host, s.port)
                                         for s in config.nameservers]
        self.resolver.lifetime = config.timeout
        self.clock = clock
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def needs_rewrite(self, address: str, *, ask: bool = True) -> bool:
        """True when a post from `address` must not keep its From (or we could not tell).

        With `ask=False` only the cache is read: a domain it does not hold counts as one
        the DNS could not answer for. The worker asks before it opens a transaction, so
        the pipeline (inside one) never waits for the DNS."""
        domain = address.rpartition("@")[2]
        if not domain:
            return False
        return self.policy(domain, ask=ask) in (*STRICT, "unknown")

    def answered(self, address: str) -> bool:
        """Whether `needs_rewrite` would find its answer in the cache (fresh), without
        asking the DNS: the worker sends to a thread only the authors it must ask for."""
        domain = address.rpartition("@")[2]
        if not domain:
            return True
        now = self.clock()
        for i, name in enumerate(walk(domain)):
            with self._lock:
                hit = self._cache.get(f"{name}|{i > 0}")
            if hit is None or hit[0] <= now:
                return False
            if hit[1] is not None:
                return True
        return True

    def policy(self, domain: str, *, ask: bool = True) -> str | None:
        for i, name in enumerate(walk(domain)):
            policy = self._cached(name, for_subdomain=i > 0, ask=ask)
            if policy is not None:
                return policy
        return None

    def _cached(self, name: str, *, for_subdomain: bool, ask: bool) -> str | None:
        key = f"{name}|{for_subdomain}"
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if not ask:
            return "unknown"
        answer = self._ask(name, for_subdomain=for_subdomain)
        with self._lock:
            self._cache[key] = (now + answer.ttl, answer.policy)
        return answer.policy

    def _ask(self, name: str, *, for_subdomain: bool) -> Answer:
        try:
            found = self.resolver.resolve(f"_dmarc.{name}", "TXT", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Answer(None, NEGATIVE_TTL)
        except (dns.exception.DNSException, OSError) as exc:
            log.warning("DMARC lookup for %s failed (%s): From will be rewritten", name, exc)
            return Answer("unknown", FAILURE_TTL)
        if found.rrset is None:
            return Answer(None, NEGATIVE_TTL)
        records = [b"".join(r.strings).decode("utf-8", "replace") for r in found.rrset]
        ttl = min(max(float(found.rrset.ttl), 60.0), MAX_TTL)
        return Answer(policy_of(records, for_subdomain=for_subdomain), ttl)


_shared: dict[DnsConfig, DmarcPolicies] = {}
_shared_lock = threading.Lock()


def policies_for(config: DnsConfig) -> DmarcPolicies:
    """One cache per DNS setting, shared by every message the process handles."""
    with _shared_lock:
        if config not in _shared:
            _shared[config] = DmarcPolicies(config)
        return _shared[config]
