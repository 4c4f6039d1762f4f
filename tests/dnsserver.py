"""A small authoritative DNS server on loopback UDP, for the DMARC and DKIM tests (dnspython).

It answers TXT questions from a dict it can be given at any time, NXDOMAIN for the rest,
and stays silent for names listed in `silent` (a server that does not answer). It counts
the questions it gets, so tests can see what the cache saved.
"""

import socket
import threading
from collections import Counter

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.silent: set[str] = set()
        self.asked: Counter[str] = Counter()
        self.ttl = 300
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_txt(self, name: str, *texts: str) -> None:
        self.records[name.lower().rstrip(".")] = list(texts)

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(dns.message.from_wire(data))
            except Exception:
                continue
            if reply is not None:
                self.sock.sendto(reply.to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        self.asked[name] += 1
        if name in self.silent:
            return None
        reply = dns.message.make_response(query)
        texts = self.records.get(name)
        if texts is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            # a TXT string holds at most 255 bytes: longer texts (DKIM keys) are split in
            # several strings of one record, which readers join (RFC 7208 §3.3, RFC 6376)
            quoted = [" ".join(f'"{t[i:i + 255]}"' for i in range(0, len(t), 255))
                      for t in texts]
            reply.answer.append(dns.rrset.from_text(question.name, self.ttl, "IN", "TXT",
                                                    *quoted))
        return reply

    def close(self) -> None:
        self.sock.close()


_default: DnsServer | None = None


def default_dns() -> DnsServer:
    """The server every test config points at: no records, so no domain has a policy."""
    global _default
    if _default is None:
        _default = DnsServer()
    return _default
