"""DKIM (RFC 6376): keys made by `mailbot dkim keygen`, mail signed where it leaves, and
the signatures of what the SMTP sink received verified by dkimpy against the loopback DNS
server, on SQLite and PostgreSQL."""

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import dkim
import dns.resolver
import pytest

from mailbot.cli import main
from mailbot.config import Config, load_config
from mailbot.config.dkim import DkimKey, dns_record, generate_key
from mailbot.core.errors import ConfigError
from mailbot.outbound.signing import SigningTransport, build_signature
from tests.dnsserver import DnsServer
from tests.e2e import Driver
from tests.helpers import Received, Sink, make_message, write_config

MEMBERS = [("marie@example.com", "Marie"), ("bob@example.net", "Bob"),
           ("chloe@example.net", "Chloé")]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the key of a post's author, who signs their own mail."""
    folder = tmp_path_factory.mktemp("keys")
    (folder / "author.pem").write_bytes(generate_key(1024))
    return folder


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


def resolver_of(server: DnsServer):  # type: ignore[no-untyped-def]
    """A dkimpy `dnsfunc` asking only the loopback server."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = ["127.0.0.1"], server.port

    def get_txt(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        except dns.resolver.NXDOMAIN:
            return None
        return b"".join(answer[0].strings)
    return get_txt


def keygen(folder: Path, selector: str, domain: str, capsys: pytest.CaptureFixture[str]
           ) -> tuple[Path, str]:
    out = folder / f"{selector}.pem"
    assert main(["dkim", "keygen", "--selector", selector, "--domain", domain,
                 "--out", str(out)]) == 0
    record = capsys.readouterr().out.strip()
    return out, record


def publish(server: DnsServer, record: str) -> None:
    """Put a `S._domainkey.D. IN TXT "…"` line into the loopback DNS."""
    found = re.fullmatch(r'(\S+)\. IN TXT "([^"]+)"', record)
    assert found, record
    server.set_txt(found[1], found[2])


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return MEMBERS


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, dns_server: DnsServer,
           capsys: pytest.CaptureFixture[str]) -> Config:
    key, record = keygen(tmp_path, "mail2026", "example.org", capsys)
    publish(dns_server, record)
    return load_config(write_config(
        tmp_path, database_url, sink_port=sink.port, dns=dns_server.address,
        extra_list=f'unsubscribe_url = "https://example.org/unsubscribe"\n\n'
                   f'[dkim]\nselector = "mail2026"\nkey_file = "{key.name}"\n'))


def verify(received: Received, server: DnsServer) -> dkim.DKIM:
    checker = dkim.DKIM(received.raw)
    assert checker.verify(dnsfunc=resolver_of(server)), received.raw[:600]
    return checker


def test_keygen_writes_a_private_key_only_its_owner_reads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, record = keygen(tmp_path, "s1", "example.org", capsys)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert record.startswith('s1._domainkey.example.org. IN TXT "v=DKIM1; k=rsa; p=MII')
    assert record == dns_record("s1", "example.org", key.read_bytes())
    # never over an existing key: one line, exit 1, the key unchanged
    before = key.read_bytes()
    assert main(["dkim", "keygen", "--selector", "s1", "--domain", "example.org",
                 "--out", str(key)]) == 1
    assert "already exists" in capsys.readouterr().err and key.read_bytes() == before


async def test_list_copies_verify_and_the_signature_covers_the_list_headers(
        bot: Driver, dns_server: DnsServer, keys: Path) -> None:
    # the author signs their own post; the list then changes it (subject prefix, footer,
    # List-* headers): ours is the signature that must verify at each member's
    author = DkimKey("a1", "example.com", keys / "author.pem",
                     (keys / "author.pem").read_bytes())
    dns_server.set_txt("a1._domainkey.example.com",
                       dns_record("a1", "example.com", author.key).split('"')[1])
    post = make_message(subject="Potager", body="Qui veut des courgettes ?\n")
    post = build_signature(post, author) + post
    await bot.send(post)
    copies = [r for r in bot.sink.received if r.message["List-Id"]]
    assert len(copies) >= 2
    for copy in copies:
        checker = verify(copy, dns_server)
        fields = checker.signature_fields
        assert fields[b"d"] == b"example.org" and fields[b"s"] == b"mail2026"
        signed = re.sub(rb"\s", b"", fields[b"h"]).split(b":")
        for name in (b"from", b"subject", b"list-id", b"list-post", b"list-unsubscribe",
                     b"list-unsubscribe-post", b"message-id", b"date"):
            assert name in signed, (name, signed)
        assert copy.message.get_all("DKIM-Signature")[1].find("d=example.com") >= 0
    # each copy has its own VERP envelope but the same bytes: signed once for all
    transport = bot.service.transport
    assert isinstance(transport, SigningTransport)
    assert len({c.mail_from for c in copies}) == len(copies)
    assert len({c.raw for c in copies}) == 1 and transport.signer.signatures == 1


async def test_a_header_added_or_changed_on_the_way_breaks_the_signature(
        bot: Driver, dns_server: DnsServer) -> None:
    await bot.send(make_message(subject="Réunion"))
    copy = next(r for r in bot.sink.received if r.message["List-Id"])
    verify(copy, dns_server)
    get_txt = resolver_of(dns_server)
    headers, _, body = copy.raw.partition(b"\r\n\r\n")
    for changed in (headers + b"\r\nSubject: Gagnez un million",  # an extra Subject
                    headers + b"\r\nList-Unsubscribe: <https://evil.example/u>",
                    headers.replace(b"List-Id: ", b"List-Id: x"),
                    headers.replace(b"Subject: ", b"Subject: Re: ")):
        assert changed != headers
        assert not dkim.verify(changed + b"\r\n\r\n" + body, dnsfunc=get_txt)
    assert not dkim.verify(headers + b"\r\n\r\n" + body + b"PS: autre chose\r\n",
                           dnsfunc=get_txt)


async def test_the_bots_own_replies_are_signed(bot: Driver, dns_server: DnsServer) -> None:
    reply = await bot.command("aide")
    assert verify(reply, dns_server).signature_fields[b"d"] == b"example.org"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_list_signs_with_its_own_key_and_domain(
        tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    server_key, _ = keygen(tmp_path, "s", "example.org", capsys)
    own_key, _ = keygen(tmp_path, "own", "asso.example", capsys)
    config = load_config(write_config(tmp_path, database_url, sink_port=25, extra_list=f"""
        [[list]]
        name = "jardin"
        domain = "jardin.example"
        [list.dkim]
        selector = "own"
        key_file = "{own_key}"
        domain = "asso.example"

        [[list]]
        name = "quiet"
        domain = "quiet.example"
        [list.dkim]
        domain = "q.example"

        [dkim]
        selector = "s"
        key_file = "{server_key.name}"
        """))
    sel, jardin, quiet = (config.get_list(n).dkim for n in ("sel", "jardin", "quiet"))
    assert sel is not None and (sel.selector, sel.domain) == ("s", "example.org")
    assert jardin is not None and (jardin.selector, jardin.domain) == ("own", "asso.example")
    assert jardin.key == own_key.read_bytes()
    assert quiet is not None and (quiet.selector, quiet.domain) == ("s", "q.example")
    assert quiet.key_file == server_key


BAD = [
    ('[dkim]\nselector = "s"\nkey_file = "missing.pem"\n', "dkim.key_file",
     "cannot read {tmp}/missing.pem"),
    ('[dkim]\nselector = "s"\nkey_file = "junk.pem"\n', "dkim.key_file",
     "{tmp}/junk.pem is not a PEM RSA private key"),
    ('[dkim]\nkey_file = "junk.pem"\n', "dkim", "selector is missing"),
    ('[dkim]\nselector = "s"\n', "dkim", "key_file is missing"),
    ('[dkim]\nselector = "s"\nkey = "x.pem"\n', "dkim.key", "unknown key"),
    ('[dkim]\nselector = 3\nkey_file = "junk.pem"\n', "dkim.selector", "non-empty string"),
]


@pytest.mark.parametrize(("section", "key", "problem"), BAD)
def test_a_bad_dkim_setting_is_one_line_naming_the_file(
        tmp_path: Path, section: str, key: str, problem: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.pem").write_text("not a key\n")
    path = write_config(tmp_path, f"sqlite:///{tmp_path}/m.db", sink_port=25,
                        extra_list="\n" + section)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(path) and caught.value.key == key
    assert problem.format(tmp=tmp_path) in caught.value.problem
    for verb in ("check", "serve"):  # at check and at start: one line, no traceback
        assert main(["-c", str(path), verb]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(f"mailbot: {path}: {key}: ")
