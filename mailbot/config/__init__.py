"""The TOML config → frozen dataclasses, checked at load.

Every mistake raises ConfigError naming the file and the key. Relative paths (SQLite
database, rules folder, maildir) are resolved against the config file's own folder, so
the daemon behaves the same whatever directory it is started from.
"""

import os
import tomllib
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from mailbot.config.rules import ListRules, load_rules
from mailbot.core.durations import parse_duration
from mailbot.core.errors import ConfigError

LANGUAGES = ("fr", "en")


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


@dataclass(frozen=True)
class DnsConfig:
    """Where DMARC policies are asked: the system's resolvers unless `nameservers` is set."""

    nameservers: tuple[HostPort, ...] = ()
    timeout: float = 3.0


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
    )


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
        password=get("password", str, None),
        tls=tls,
        max_connections=connections,
        timeout=get("timeout", float, 60.0),
        give_up_after=give_up,
        max_per_hour=_non_negative(reader, "outbound.max_per_hour",
                                   get("max_per_hour", int, 0)),
        verp=get("verp", bool, True),
        batch_recipients=_at_least_one(reader, "outbound.batch_recipients",
                                       get("batch_recipients", int, 50)),
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
    """From `password`, or the file `password_file`, or the variable `password_env`."""
    get = partial(reader.get, table, "imap")
    password, path, variable = (get("password", str), get("password_file", str),
                                get("password_env", str))
    if sum(x is not None for x in (password, path, variable)) != 1:
        raise reader.fail("imap", "set exactly one of password, password_file, password_env")
    if path is not None:
        try:
            return reader.path_of(path).read_text().strip()
        except OSError as exc:
            raise reader.fail("imap.password_file", f"cannot read it: {exc}") from None
    if variable is not None:
        if variable not in os.environ:
            raise reader.fail("imap.password_env", f"the environment has no {variable}")
        from_environment: str = os.environ[variable]
        return from_environment
    assert isinstance(password, str)
    return password


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


def _table(reader: _Reader, name: str) -> dict[str, Any]:
    table = reader.data.get(name, {})
    if not isinstance(table, dict):
        raise reader.fail(name, "must be a [section] table")
    return table


_LIST_KEYS = {"name", "domain", "title", "moderators", "rules", "language", "unsubscribe_url",
              "treasurers"}


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
    return ListConfig(
        name=name,
        domain=get("domain", str, required=True).lower(),
        title=get("title", str, name),
        moderators=checked,
        rules_name=rules_name,
        rules=load_rules(server.rules_dir, rules_name),
        language=language,
        unsubscribe_url=get("unsubscribe_url", str, None),
        treasurers=treasurers,
    )


def _address(reader: _Reader, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise reader.fail(key, f"must be an email address, not {value!r}")
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise reader.fail(key, f"{value!r} is not a valid address: {exc}") from None
