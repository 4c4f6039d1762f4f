"""from_rewrite = "auto": the author's DMARC policy, asked of a DNS server on loopback."""

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.config import Config, DnsConfig, HostPort, load_config
from mailbot.pipeline.dmarc import (
    Answer,
    DmarcPolicies,
    parse_record,
    policies_for,
    policy_of,
    walk,
)
from mailbot.reading.message import header
from tests.dnsserver import DnsServer
from tests.e2e import Driver
from tests.helpers import Sink, make_message, write_config


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    server.set_txt("_dmarc.strict.example", "v=DMARC1; p=reject; rua=mailto:d@strict.example")
    server.set_txt("_dmarc.binned.example", "v=DMARC1; p=quarantine")
    server.set_txt("_dmarc.relaxed.example", "v=DMARC1; p=none")
    server.set_txt("_dmarc.parent.example", "v=DMARC1; p=none; sp=reject")
    server.set_txt("_dmarc.twice.example", "v=DMARC1; p=reject", "v=DMARC1; p=none")
    server.set_txt("_dmarc.spf-only.example", "v=spf1 -all")
    server.silent.add("_dmarc.down.example")
    yield server
    server.close()


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policies(server: DnsServer, ticks: Ticks | None = None, timeout: float = 2.0
             ) -> DmarcPolicies:
    config = DnsConfig(nameservers=(HostPort("127.0.0.1", server.port),), timeout=timeout)
    return DmarcPolicies(config, ticks or Ticks())


@pytest.mark.parametrize(("text", "expected"), [
    ("v=DMARC1; p=reject", {"v": "dmarc1", "p": "reject"}),
    ("v=DMARC1;p=quarantine;pct=50", {"v": "dmarc1", "p": "quarantine", "pct": "50"}),
    (" v = DMARC1 ; p = None ", {"v": "dmarc1", "p": "none"}),
    ("v=spf1 -all", None),
    ("p=reject", None),
    ("", None),
])
def test_parse_record(text: str, expected: dict[str, str] | None) -> None:
    assert parse_record(text) == expected


@pytest.mark.parametrize(("records", "for_subdomain", "expected"), [
    (["v=DMARC1; p=reject"], False, "reject"),
    (["v=DMARC1; p=reject; sp=none"], True, "none"),
    (["v=DMARC1; p=quarantine"], True, "quarantine"),  # no sp: p applies below too
    (["v=DMARC1; p=reject", "v=DMARC1; p=none"], False, None),  # two records: no policy
    (["v=spf1 -all"], False, None),
    (["v=DMARC1; p=bogus"], False, "none"),
    ([], False, None),
])
def test_policy_of(records: list[str], for_subdomain: bool, expected: str | None) -> None:
    assert policy_of(records, for_subdomain=for_subdomain) == expected


@pytest.mark.parametrize(("domain", "names"), [
    ("example.org", ["example.org"]),
    ("mail.example.org", ["mail.example.org", "example.org"]),
    ("a.b.c.example.co.uk", ["a.b.c.example.co.uk", "b.c.example.co.uk", "c.example.co.uk",
                             "example.co.uk", "co.uk"]),
    ("Example.ORG.", ["example.org"]),
])
def test_the_tree_walk_goes_up_to_two_labels(domain: str, names: list[str]) -> None:
    assert walk(domain) == names


def test_a_very_long_name_starts_the_walk_at_seven_labels() -> None:
    names = walk("1.2.3.4.5.6.7.8.9.10.example.org")
    assert names[0] == "1.2.3.4.5.6.7.8.9.10.example.org"
    assert names[1] == "6.7.8.9.10.example.org"  # 7 labels, minus the first one left out


@pytest.mark.parametrize(("address", "policy", "rewrite"), [
    ("marie@strict.example", "reject", True),
    ("marie@binned.example", "quarantine", True),
    ("marie@relaxed.example", "none", False),
    ("marie@nothing.example", None, False),
    ("marie@twice.example", None, False),
    ("marie@spf-only.example", None, False),
    ("marie@shop.parent.example", "reject", True),  # the parent's sp= speaks for it
    ("marie@parent.example", "none", False),
    ("marie@deep.down.strict.example", "reject", True),
])
def test_policies_from_the_loopback_server(dns_server: DnsServer, address: str,
                                           policy: str | None, rewrite: bool) -> None:
    found = policies(dns_server)
    assert found.policy(address.rpartition("@")[2]) == policy
    assert found.needs_rewrite(address) is rewrite


def test_a_server_that_does_not_answer_means_rewrite(dns_server: DnsServer) -> None:
    found = policies(dns_server, timeout=0.3)
    assert found.policy("down.example") == "unknown"
    assert found.needs_rewrite("marie@down.example") is True


def test_answers_are_cached_for_their_ttl(dns_server: DnsServer) -> None:
    ticks = Ticks()
    found = policies(dns_server, ticks)
    dns_server.ttl = 120
    for _ in range(5):
        assert found.needs_rewrite("marie@strict.example") is True
        assert found.needs_rewrite("paul@nothing.example") is False
    assert dns_server.asked["_dmarc.strict.example"] == 1
    assert dns_server.asked["_dmarc.nothing.example"] == 1
    dns_server.set_txt("_dmarc.strict.example", "v=DMARC1; p=none")
    ticks.now += 119
    assert found.needs_rewrite("marie@strict.example") is True
    ticks.now += 2
    assert found.needs_rewrite("marie@strict.example") is False
    assert dns_server.asked["_dmarc.strict.example"] == 2


@pytest.mark.parametrize("address", ["marie@strict.example", "paul@nothing.example",
                                     "zoe@sub.parent.example", "jo@down.example"])
def test_answered_says_whether_the_cache_holds_the_answer(dns_server: DnsServer,
                                                          address: str) -> None:
    """What the worker looks at before it sends an author's lookup to a thread: true
    once asked (a policy, none, a parent's, or a failure), false again once stale."""
    ticks = Ticks()
    found = policies(dns_server, ticks, timeout=0.3)
    dns_server.ttl = 120
    assert found.answered(address) is False
    before = found.needs_rewrite(address)
    asked = sum(dns_server.asked.values())
    assert found.answered(address) is True
    assert found.needs_rewrite(address, ask=False) is before  # the cache alone says it
    assert sum(dns_server.asked.values()) == asked
    ticks.now += 3600 * 24
    assert found.answered(address) is False
    assert found.answered("") is True  # no domain: nothing to ask


# --- end to end: the list copy ------------------------------------------------------------

@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, dns_server: DnsServer) -> Config:
    return load_config(write_config(tmp_path, database_url, sink_port=sink.port,
                                    dns=dns_server.address))


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@strict.example", "Marie"), ("paul@relaxed.example", "Paul"),
            ("bob@example.net", "Bob")]


async def test_auto_rewrites_from_for_a_reject_domain_and_keeps_the_author_reachable(
        bot: Driver) -> None:
    raw = make_message(sender="marie@strict.example", subject="Vélo à prêter",
                       body="Qui en veut ?\n", name="Marie Curie")
    assert await bot.send(raw, mail_from="marie@strict.example") == 250
    copy = bot.sink.to("bob@example.net")[0].message
    assert header(copy, "From") == "Marie Curie via SEL de Saint-Martin <sel@example.org>"
    assert "marie@strict.example" in header(copy, "Reply-To")


async def test_auto_keeps_from_for_a_domain_without_a_strict_policy(bot: Driver) -> None:
    raw = make_message(sender="paul@relaxed.example", subject="Confiture",
                       body="Il en reste.\n", name="Paul")
    assert await bot.send(raw, mail_from="paul@relaxed.example") == 250
    copy = bot.sink.to("bob@example.net")[0].message
    assert header(copy, "From") == "Paul <paul@relaxed.example>"


def _inside_a_transaction() -> bool:
    return any(frame.function == "transaction" and frame.filename.endswith("db.py")
               for frame in inspect.stack())


async def test_the_dns_is_asked_before_the_transaction_never_inside_it(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow DNS must never hold the database: the worker asks before it claims."""
    asked: list[tuple[str, bool]] = []
    ask = DmarcPolicies._ask

    def watched(self: DmarcPolicies, name: str, *, for_subdomain: bool) -> Answer:
        asked.append((name, _inside_a_transaction()))
        return ask(self, name, for_subdomain=for_subdomain)

    monkeypatch.setattr(DmarcPolicies, "_ask", watched)
    raw = make_message(sender="marie@strict.example", subject="Vélo", body="Qui ?\n")
    assert await bot.send(raw, mail_from="marie@strict.example") == 250
    assert ("strict.example", False) in asked
    assert not [name for name, inside in asked if inside]
    copy = bot.sink.to("bob@example.net")[0].message
    assert header(copy, "From").endswith("via SEL de Saint-Martin <sel@example.org>")


@pytest.mark.parametrize(("author", "rewritten"), [("anne@binned.example", True),
                                                   ("anne@relaxed.example", False)])
async def test_an_approved_post_gets_the_policy_asked_before_the_approval(
        bot: Driver, config: Config, author: str, rewritten: bool) -> None:
    """A stranger's post waits for a moderator; the approval (a reply to the notice)
    re-enters the pipeline with its author's policy asked before that reply's transaction
    (the cache is emptied in between: an answer cached at the post would not do)."""
    raw = make_message(sender=author, subject="Bonjour", body="Salut\n", name="Anne")
    assert await bot.send(raw, mail_from=author) == 250
    notice = bot.sink.to("alice@example.org")[0]
    bot.sink.clear()
    policies_for(config.dns)._cache.clear()
    await bot.reply_to(notice, "approve", sender="alice@example.org")
    copy = bot.sink.to("bob@example.net")[0].message
    expected = "Anne via SEL de Saint-Martin <sel@example.org>" if rewritten else \
        f"Anne <{author}>"
    assert header(copy, "From") == expected
