"""The TOML config → frozen dataclasses, checked at load.

Every mistake raises ConfigError naming the file and the key. Relative paths (SQLite
database, rules folder, maildir) are resolved against the config file's own folder, so
the daemon behaves the same whatever directory it is started from.
"""

import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from mailbot.config import dkim
from mailbot.config.dkim import DkimKey
from mailbot.config.rules import ListRules, load_rules, read_charter
from mailbot.core.durations import parse_duration
from mailbot.core.errors import ConfigError

LANGUAGES = ("fr", "en")
MAX_WORKERS = 16  # server.workers: more processes than that is a mistake, not a plan


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ServerConfig:
    listen: HostPort | None
    lmtp_listen: HostPort | None
    database_url: str
    timezone: str
    language: str
    rules_dir: Path
    separator: str
    hostname: str
    # Trust Authentication-Results (RFC 8601) headers with this authserv-id: the one our own
    # MTA adds (and strips from incoming mail). "" trusts none.
    authserv_id: str = ""
    # RCPTs accepted in one SMTP/LMTP transaction; past it, 452 (RFC 5321 §4.5.3.1.10)
    max_recipients: int = 50
    # The operator's own templates (overrides of the shipped ones); may not exist
    templates_dir: Path | None = None
    # Peers of the SMTP listener that are our own MTA: only mail from them (or by LMTP)
    # keeps the Authentication-Results with `authserv_id` (RFC 8601 §5)
    trusted_relays: tuple[IPv4Network | IPv6Network, ...] = ()
    # Processes that handle stored mail, send and run timers, beside the one that listens;
    # 0: one process does everything
    workers: int = 0

    def is_trusted_relay(self, host: str) -> bool:
        """Whether an SMTP peer's address is one of `trusted_relays`."""
        try:
            address = ip_address(host.split("%")[0])
        except ValueError:
            return False
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted_relays)


@dataclass(frozen=True)
class ImapConfig:
    """A hosted mailbox to read the lists' mail from (instead of, or beside, SMTP/LMTP)."""

    host: str
    port: int
    tls: str  # "tls" (993), "starttls" or "none"
    user: str
    password: str
    folder: str
    processed_folder: str
    poll_interval: float


@dataclass(frozen=True)
class OutboundConfig:
    smtp: HostPort | None
    maildir: Path | None
    username: str | None
    password: str | None
    tls: str
    max_connections: int
    timeout: float
    give_up_after: timedelta
    max_per_hour: int  # 0: no cap; hosted mailboxes limit how much they send
    # Posts go out with one VERP envelope per member (bounces name the member) unless
    # `verp` is false: then copies to one domain share a transaction, up to this many RCPTs.
    verp: bool = True
    batch_recipients: int = 50
    # Transactions a connection may have sent and not yet recorded: a kill -9 can make at
    # most this many per connection go out twice (1: wait for each record, the slowest).
    record_batch: int = 50


@dataclass(frozen=True)
class DnsConfig:
    """Where DMARC policies are asked: the system's resolvers unless `nameservers` is set."""

    nameservers: tuple[HostPort, ...] = ()
    timeout: float = 3.0


@dataclass(frozen=True)
class HttpConfig:
    """The small web endpoint of RFC 8058 one-click unsubscribe (`[http]`): where it
    listens, the public address members' mail programs reach it by, and the secret that
    signs each member's link."""

    listen: HostPort
    base_url: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class ListConfig:
    name: str
    domain: str
    title: str
    moderators: tuple[str, ...]
    rules_name: str
    rules: ListRules
    language: str
    unsubscribe_url: str | None
    dkim: DkimKey | None = None  # sign its mail (RFC 6376): [dkim], or its [list.dkim]
    charter: str = ""  # the text of `moderation.charter_file`, read when the config loads
    # Members who keep the time ledger (record paper slips) without being moderators.
    treasurers: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"{self.name}@{self.domain}"

    @property
    def list_id(self) -> str:
        """RFC 2919 list identifier: the address with `@` turned into a dot."""
        return f"{self.name}.{self.domain}"

    def is_moderator(self, email: str) -> bool:
        return email.lower() in self.moderators

    def keeps_books(self, email: str) -> bool:
        """A moderator or a treasurer: may record transfers from paper slips."""
        return self.is_moderator(email) or email.lower() in self.treasurers


@dataclass(frozen=True)
class Config:
    path: Path
    server: ServerConfig
    outbound: OutboundConfig
    lists: tuple[ListConfig, ...]
    imap: ImapConfig | None = None
    dns: DnsConfig = DnsConfig()
    http: HttpConfig | None = None

    def get_list(self, name: str) -> ListConfig:
        for mlist in self.lists:
            if mlist.name == name:
                return mlist
        raise KeyError(name)


def load_config(path: Path | str) -> Config:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    reader = _Reader(path, data)
    server = _server(reader)
    config = Config(
        path=path,
        server=server,
        outbound=_outbound(reader),
        lists=_lists(reader, server),
        imap=_imap(reader),
        dns=_dns(reader),
        http=_http(reader),
    )
    reader.refuse_unknown()
    return config


class _Reader:
    """Reads typed keys from the TOML tree and remembers which keys were read."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data, self.base = path, data, path.resolve().parent
        self.known: set[str] = set()

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(str(self.path), key, problem)

    def get(self, table: dict[str, Any], prefix: str, key: str, kind: type,
            default: Any = None, *, required: bool = False) -> Any:
        dotted = f"{prefix}.{key}"
        self.known.add(dotted)
        if key not in table:
            if required:
                raise self.fail(dotted, "required key is missing")
            return default
        value = table[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(dotted, f"must be a whole number, not {value!r}")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind):
            raise self.fail(dotted, f"must be a {kind.__name__}, not {value!r}")
        return value

    def path_of(self, text: str) -> Path:
        candidate = Path(text)
        return candidate if candidate.is_absolute() else self.base / candidate

    def refuse_unknown(self) -> None:
        for section, table in self.data.items():
            if section == "list":
                continue
            if not isinstance(table, dict):
                raise self.fail(section, "must be a [section] table")
            for key in table:
                if f"{section}.{key}" not in self.known:
                    raise self.fail(f"{section}.{key}", "unknown key")


def _host_port(reader: _Reader, key: str, text: str) -> HostPort | None:
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host or not 0 <= int(port) <= 65535:
        raise reader.fail(key, f"must be host:port, not {text!r}")
    return HostPort(host.strip("[]"), int(port))


def _server(reader: _Reader) -> ServerConfig:
    table = _table(reader, "server")
    get = partial(reader.get, table, "server")
    timezone = get("timezone", str, "Europe/Paris")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise reader.fail("server.timezone", f"unknown timezone {timezone!r}") from None
    language = get("language", str, "fr")
    if language not in LANGUAGES:
        raise reader.fail("server.language", f"must be one of {', '.join(LANGUAGES)}")
    separator = get("separator", str, "-")
    if separator not in ("-", "+"):
        raise reader.fail("server.separator", 'must be "-" or "+"')
    max_recipients = get("max_recipients", int, 50)
    if max_recipients < 1:
        raise reader.fail("server.max_recipients", "must be at least 1")
    workers = get("workers", int, 0)
    if not 0 <= workers <= MAX_WORKERS:
        raise reader.fail("server.workers", f"must be from 0 to {MAX_WORKERS}")
    return ServerConfig(
        listen=_host_port(reader, "server.listen", get("listen", str, "127.0.0.1:8025")),
        lmtp_listen=_host_port(reader, "server.lmtp_listen", get("lmtp_listen", str, "")),
        database_url=_database_url(reader, get("database_url", str, required=True)),
        timezone=timezone,
        language=language,
        rules_dir=reader.path_of(get("rules_dir", str, "rules")),
        separator=separator,
        hostname=get("hostname", str, "localhost"),
        authserv_id=get("authserv_id", str, "").lower(),
        max_recipients=max_recipients,
        templates_dir=reader.path_of(get("templates_dir", str, "templates")),
        trusted_relays=_networks(reader, get("trusted_relays", list, [])),
        workers=workers,
    )


def trust_warnings(server: ServerConfig) -> list[str]:
    """What `mailbot check` warns about when Authentication-Results are trusted: an SMTP
    listener that untrusted peers can reach (their verdicts are removed, so no sender of
    theirs is ever proven: is that what was meant?), or a relay list that trusts anyone."""
    if not server.authserv_id:
        return []
    warnings = []
    if any(network.prefixlen == 0 for network in server.trusted_relays):
        warnings.append("server.trusted_relays trusts every address: anyone can forge an "
                        f"Authentication-Results header for {server.authserv_id}")
    listen = server.listen
    if listen is not None and _untrusted_can_connect(server, listen.host):
        warnings.append(
            f"server.authserv_id is set and the SMTP listener on {listen} accepts mail from "
            "addresses outside server.trusted_relays: their Authentication-Results headers "
            f"for {server.authserv_id} are removed, so their senders are never proven; list "
            "your MTA in server.trusted_relays, or deliver by LMTP (server.lmtp_listen)")
    return warnings


def _untrusted_can_connect(server: ServerConfig, host: str) -> bool:
    """Bound to loopback, only this machine connects (from 127.0.0.1 or ::1); else
    anyone who can reach the port."""
    peers = {"localhost": ["127.0.0.1", "::1"]}.get(host)
    if peers is None:
        try:
            address = ip_address(host)
        except ValueError:
            address = None
        peers = [str(address)] if address is not None and address.is_loopback else []
    if peers:
        return not all(server.is_trusted_relay(peer) for peer in peers)
    return not any(network.prefixlen == 0 for network in server.trusted_relays)


def _networks(reader: _Reader, values: list[Any]) -> tuple[IPv4Network | IPv6Network, ...]:
    """Addresses or networks ("192.0.2.25", "10.0.0.0/8", "::1")."""
    found = []
    for value in values:
        try:
            found.append(ip_network(str(value) if isinstance(value, str) else "", strict=False))
        except ValueError:
            raise reader.fail("server.trusted_relays",
                              f"{value!r} is not an IP address or network") from None
    return tuple(found)


def _database_url(reader: _Reader, url: str) -> str:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            return f"sqlite:///{reader.path_of(relative)}"
    if not url.startswith(("sqlite:", "postgresql")):
        raise reader.fail("server.database_url", "must start with sqlite:/// or postgresql+psycopg://")
    return url


def _outbound(reader: _Reader) -> OutboundConfig:
    table = _table(reader, "outbound")
    get = partial(reader.get, table, "outbound")
    smtp_text, maildir_text = get("smtp", str, ""), get("maildir", str, "")
    if bool(smtp_text) == bool(maildir_text):
        raise reader.fail("outbound", "set exactly one of outbound.smtp or outbound.maildir")
    tls = get("tls", str, "none")
    if tls not in ("none", "starttls", "tls"):
        raise reader.fail("outbound.tls", 'must be "none", "starttls" or "tls"')
    try:
        give_up = parse_duration(get("give_up_after", str, "5d"))
    except ValueError as exc:
        raise reader.fail("outbound.give_up_after", str(exc)) from None
    connections = get("max_connections", int, 4)
    if connections < 1:
        raise reader.fail("outbound.max_connections", "must be at least 1")
    return OutboundConfig(
        smtp=_host_port(reader, "outbound.smtp", smtp_text),
        maildir=reader.path_of(maildir_text) if maildir_text else None,
        username=get("username", str, None),
        password=_secret(reader, table, "outbound", required=False),
        tls=tls,
        max_connections=connections,
        timeout=get("timeout", float, 60.0),
        give_up_after=give_up,
        max_per_hour=_non_negative(reader, "outbound.max_per_hour",
                                   get("max_per_hour", int, 0)),
        verp=get("verp", bool, True),
        batch_recipients=_at_least_one(reader, "outbound.batch_recipients",
                                       get("batch_recipients", int, 50)),
        record_batch=_at_least_one(reader, "outbound.record_batch",
                                   get("record_batch", int, 50)),
    )


def _non_negative(reader: _Reader, key: str, value: int) -> int:
    if value < 0:
        raise reader.fail(key, "must be 0 (no cap) or more")
    return value


def _at_least_one(reader: _Reader, key: str, value: int) -> int:
    if value < 1:
        raise reader.fail(key, "must be at least 1")
    return value


def _imap(reader: _Reader) -> ImapConfig | None:
    if "imap" not in reader.data:
        return None
    table = _table(reader, "imap")
    get = partial(reader.get, table, "imap")
    tls = get("tls", str, "tls")
    if tls not in ("none", "starttls", "tls"):
        raise reader.fail("imap.tls", 'must be "tls", "starttls" or "none"')
    return ImapConfig(
        host=get("host", str, required=True), port=get("port", int, 993 if tls == "tls" else 143),
        tls=tls, user=get("user", str, required=True), password=_imap_password(reader, table),
        folder=get("folder", str, "INBOX"), processed_folder=get("processed_folder", str,
                                                                    "Processed"),
        poll_interval=get("poll_interval", float, 60.0),
    )


def _imap_password(reader: _Reader, table: dict[str, Any]) -> str:
    password = _secret(reader, table, "imap", required=True)
    assert password is not None
    return password


def _secret(reader: _Reader, table: dict[str, Any], section: str, *,
            required: bool, key: str = "password") -> str | None:
    """A secret from `key`, or the file `key_file`, or the environment variable `key_env`:
    at most one of them (exactly one when `required`)."""
    get = partial(reader.get, table, section)
    password, path, variable = get(key, str), get(f"{key}_file", str), get(f"{key}_env", str)
    given = sum(x is not None for x in (password, path, variable))
    if given > 1 or (required and given == 0):
        raise reader.fail(section, f"set {'exactly' if required else 'at most'} one of "
                          f"{key}, {key}_file, {key}_env")
    if path is not None:
        try:
            return reader.path_of(path).read_text().strip()
        except OSError as exc:
            raise reader.fail(f"{section}.{key}_file", f"cannot read it: {exc}") from None
    if variable is not None:
        if variable not in os.environ:
            raise reader.fail(f"{section}.{key}_env", f"the environment has no {variable}")
        from_environment: str = os.environ[variable].strip()
        return from_environment
    return None if password is None else str(password)


def _dns(reader: _Reader) -> DnsConfig:
    table = _table(reader, "dns")
    get = partial(reader.get, table, "dns")
    servers = get("nameservers", list, [])
    checked = []
    for text in servers:
        if not isinstance(text, str):
            raise reader.fail("dns.nameservers", f"must be host:port strings, not {text!r}")
        found = _host_port(reader, "dns.nameservers", text if ":" in text else f"{text}:53")
        if found is not None:
            checked.append(found)
    timeout = get("timeout", float, 3.0)
    if timeout <= 0:
        raise reader.fail("dns.timeout", "must be more than 0 seconds")
    return DnsConfig(nameservers=tuple(checked), timeout=timeout)


def _http(reader: _Reader) -> HttpConfig | None:
    """`[http]`: one-click unsubscribe links, signed with `secret` (or `secret_file`, or
    `secret_env`: exactly one)."""
    if "http" not in reader.data:
        return None
    table = _table(reader, "http")
    get = partial(reader.get, table, "http")
    listen = _host_port(reader, "http.listen", get("listen", str, "127.0.0.1:8080"))
    if listen is None:
        raise reader.fail("http.listen", "must be host:port")
    base_url = get("base_url", str, required=True).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise reader.fail("http.base_url", f"must start with https:// (not {base_url!r})")
    secret = _secret(reader, table, "http", required=True, key="secret")
    assert secret is not None
    if len(secret) < 16:
        raise reader.fail("http.secret", "too short: use at least 16 random characters")
    return HttpConfig(listen=listen, base_url=base_url, secret=secret.encode())


def _table(reader: _Reader, name: str) -> dict[str, Any]:
    table = reader.data.get(name, {})
    if not isinstance(table, dict):
        raise reader.fail(name, "must be a [section] table")
    return table


_LIST_KEYS = {"name", "domain", "title", "moderators", "rules", "language", "unsubscribe_url",
              "dkim", "treasurers"}


def _lists(reader: _Reader, server: ServerConfig) -> tuple[ListConfig, ...]:
    tables = reader.data.get("list", [])
    if not isinstance(tables, list) or not tables:
        raise reader.fail("list", "define at least one [[list]]")
    lists = tuple(_one_list(reader, server, table, i) for i, table in enumerate(tables))
    names = [(m.name, m.domain) for m in lists]
    if len(set(names)) != len(names):
        raise reader.fail("list", "two lists have the same name and domain")
    return lists


def _one_list(reader: _Reader, server: ServerConfig, table: Any, index: int) -> ListConfig:
    prefix = f"list[{index}]"
    if not isinstance(table, dict):
        raise reader.fail(prefix, "must be a [[list]] table")
    for key in table:
        if key not in _LIST_KEYS:
            raise reader.fail(f"{prefix}.{key}", "unknown key")
    get = partial(reader.get, table, prefix)
    name = get("name", str, required=True).lower()
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise reader.fail(f"{prefix}.name", f"not a valid list name: {name!r}")
    moderators = get("moderators", list, [])
    checked = tuple(_address(reader, f"{prefix}.moderators", m) for m in moderators)
    treasurers = tuple(_address(reader, f"{prefix}.treasurers", t)
                       for t in get("treasurers", list, []))
    language = get("language", str, server.language)
    if language not in LANGUAGES:
        raise reader.fail(f"{prefix}.language", f"must be one of {', '.join(LANGUAGES)}")
    rules_name = get("rules", str, "default")
    domain = get("domain", str, required=True).lower()
    rules = load_rules(server.rules_dir, rules_name)
    return ListConfig(
        name=name,
        domain=domain,
        title=get("title", str, name),
        moderators=checked,
        rules_name=rules_name,
        rules=rules,
        language=language,
        unsubscribe_url=get("unsubscribe_url", str, None),
        dkim=_dkim(reader, get("dkim", dict, {}), prefix, domain),
        charter=read_charter(server.rules_dir, rules, rules_name),
        treasurers=treasurers,
    )


def _dkim(reader: _Reader, own: dict[str, Any], prefix: str, domain: str) -> DkimKey | None:
    """The list's own `[list.dkim]` keys over the server-wide `[dkim]`; d= defaults to the
    list's domain. None when neither names a key file: the list's mail is not signed."""
    server = _table(reader, "dkim")
    for key in server:
        reader.known.add(f"dkim.{key}")
    for where, table in ((f"{prefix}.dkim", own), ("dkim", server)):
        for key, value in table.items():
            if key not in dkim.KEYS:
                raise reader.fail(f"{where}.{key}", "unknown key")
            if not isinstance(value, str) or not value:
                raise reader.fail(f"{where}.{key}", f"must be a non-empty string, not {value!r}")
    chosen = {**server, **own}
    if "key_file" not in chosen:
        if chosen:
            raise reader.fail(f"{prefix}.dkim" if own else "dkim", "key_file is missing")
        return None
    where = f"{prefix}.dkim" if "key_file" in own else "dkim"
    if "selector" not in chosen:
        raise reader.fail(where, "selector is missing")
    path = reader.path_of(chosen["key_file"])
    try:
        pem = dkim.read_key(path)
    except OSError as exc:
        raise reader.fail(f"{where}.key_file", f"cannot read {path}: {exc.strerror or exc}"
                          "; make one with `mailbot dkim keygen`") from None
    except ValueError as exc:
        raise reader.fail(f"{where}.key_file", str(exc)) from None
    return DkimKey(chosen["selector"], chosen.get("domain", domain).lower(), path, pem)


def _address(reader: _Reader, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise reader.fail(key, f"must be an email address, not {value!r}")
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise reader.fail(key, f"{value!r} is not a valid address: {exc}") from None
