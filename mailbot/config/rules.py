"""A list's policies: the shipped `rules/default.toml`, overridden key by key by the
operator's own `default.toml` (optional) and then by `<rules folder>/<list>.toml`.

The dataclass defaults below are the contract's defaults; `rules/default.toml` documents
each one (a test keeps the two equal). Loading checks every key, type and choice, and a
mistake names the file, the key and what is wrong.
"""

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from mailbot.config.shipped import default_rules
from mailbot.core.cron import check_cron
from mailbot.core.durations import parse_duration
from mailbot.core.errors import ConfigError


def _choice(*values: str) -> dict[str, tuple[str, ...]]:
    return {"choices": values}


@dataclass(frozen=True)
class Posting:
    who: str = field(default="members", metadata=_choice("members", "moderators", "anyone"))
    reply_to: str = field(default="list", metadata=_choice("list", "author"))
    from_rewrite: str = field(default="auto", metadata=_choice("never", "always", "auto"))
    max_kb: int = 5120
    first_post_moderated: bool = False
    subject_prefix: str = "[{list}]"
    # A member's posts past this many in a day are held for the rest of the day (0: none).
    max_posts_per_day: int = 0


@dataclass(frozen=True)
class Consent:
    period: timedelta = timedelta(days=3)
    reminder_before: timedelta = timedelta(hours=24)
    reminder_cron: str = ""  # remind at the first of these times in the window ("": at once)


@dataclass(frozen=True)
class Exchange:
    unit: str = "points"
    points_per_hour: int = 60
    min_balance: int = -1200
    max_balance: int = 2400
    item_lifetime: timedelta = timedelta(days=60)
    renewal_notice_before: timedelta = timedelta(days=7)
    # A new member may not go below newcomer_min_balance during newcomer_for after joining.
    newcomer_min_balance: int = -1200
    newcomer_for: timedelta = timedelta(days=30)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How a member receives the list: each post as it comes, a digest, or nothing.
DELIVERY_MODES = ("each", "daily", "weekly", "off")
DIGEST_MODES = ("daily", "weekly")


@dataclass(frozen=True)
class Digest:
    time: str = "18:00"
    weekday: str = field(default="sunday", metadata=_choice(*WEEKDAYS))
    # crontab expressions in the list's timezone, instead of time (daily) and
    # weekday + time (weekly); "" keeps those
    cron: str = ""
    weekly_cron: str = ""


@dataclass(frozen=True)
class Bounces:
    threshold: int = 5
    window: timedelta = timedelta(days=7)
    once_per_day: bool = True
    probe_wait: timedelta = timedelta(days=2)
    probe_every: timedelta = timedelta(days=3)
    probes: int = 3
    mark_away: bool = False
    away_for: timedelta = timedelta(days=7)


NOTIFY_MODES = ("each", "daily", "never")


@dataclass(frozen=True)
class Membership:
    join: str = field(default="confirm", metadata=_choice("open", "confirm", "approve"))
    confirm_within: timedelta = timedelta(days=7)
    members_can_list: bool = False
    # Moderators are told of joins, leaves, suspensions, removals, moderation and bans:
    # each at once, in one summary a day (at digest.time), or never.
    notify: str = field(default="daily", metadata=_choice(*NOTIFY_MODES))


@dataclass(frozen=True)
class Moderation:
    # The list's charter: a plain-text file, relative to the rules folder ("": none).
    charter_file: str = ""
    # A member put under moderation is freed by itself after this long (None: never).
    moderated_for: timedelta | None = None


@dataclass(frozen=True)
class Abuse:
    confirmations_per_day: int = 3
    replies_per_hour: int = 10
    max_unknown_lines: int = 3
    max_commands: int = 20
    banned: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListRules:
    posting: Posting = Posting()
    consent: Consent = Consent()
    exchange: Exchange = Exchange()
    digest: Digest = Digest()
    bounces: Bounces = Bounces()
    membership: Membership = Membership()
    moderation: Moderation = Moderation()
    abuse: Abuse = Abuse()


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def load_rules(rules_dir: Path, name: str) -> ListRules:
    """Merge the shipped defaults, the operator's `default.toml` if there is one, and
    `<name>.toml` (if `name` is not "default") into ListRules."""
    shipped = default_rules()
    rules = _apply(ListRules(), _read(shipped), shipped)
    own_defaults = rules_dir / "default.toml"
    if own_defaults.exists() and own_defaults.resolve() != shipped.resolve():
        rules = _apply(rules, _read(own_defaults), own_defaults)
    if name != "default":
        own = rules_dir / f"{name}.toml"
        if not own.exists():
            raise ConfigError(str(own), "", "rules file not found")
        rules = _apply(rules, _read(own), own)
    return rules


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "rules file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None


def _apply(rules: ListRules, data: dict[str, Any], path: Path) -> ListRules:
    sections = {f.name: f for f in dataclasses.fields(rules)}
    changes: dict[str, Any] = {}
    for section_name, values in data.items():
        if section_name not in sections:
            raise ConfigError(str(path), section_name, "unknown section")
        if not isinstance(values, dict):
            raise ConfigError(str(path), section_name, "must be a [section] table")
        current = getattr(rules, section_name)
        changes[section_name] = _apply_section(current, values, section_name, path)
    rules = dataclasses.replace(rules, **changes)
    _check_coherence(rules, path)
    return rules


def _apply_section(current: Any, values: dict[str, Any], section: str, path: Path) -> Any:
    fields = {f.name: f for f in dataclasses.fields(current)}
    changes: dict[str, Any] = {}
    for key, raw in values.items():
        dotted = f"{section}.{key}"
        if key not in fields:
            raise ConfigError(str(path), dotted, f"unknown key (known: {', '.join(fields)})")
        changes[key] = convert_value(fields[key], raw, str(path), dotted)
    return dataclasses.replace(current, **changes)


def convert_value(spec: dataclasses.Field[Any], raw: Any, file: str, key: str) -> Any:
    """Check and convert one TOML value to the dataclass field's type."""
    kind = spec.type
    if kind is bool or kind == "bool":
        if not isinstance(raw, bool):
            raise ConfigError(file, key, f"must be true or false, not {raw!r}")
        return raw
    if kind == tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise ConfigError(file, key, f"must be a list of strings, not {raw!r}")
        return tuple(x.strip().lower() for x in raw)
    if kind is int or kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(file, key, f"must be a whole number, not {raw!r}")
        return raw
    if not isinstance(raw, str):
        raise ConfigError(file, key, f"must be a string, not {raw!r}")
    if kind == timedelta | None and raw.strip() == "":
        return None  # an optional duration left empty: never
    if kind is timedelta or kind == "timedelta" or kind == timedelta | None:
        try:
            return parse_duration(raw)
        except ValueError as exc:
            raise ConfigError(file, key, str(exc)) from None
    choices = spec.metadata.get("choices")
    if choices and raw not in choices:
        raise ConfigError(file, key, f"must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _check_coherence(rules: ListRules, path: Path) -> None:
    if not _TIME.match(rules.digest.time):
        raise ConfigError(str(path), "digest.time", f"must be HH:MM, not {rules.digest.time!r}")
    for key, expression in (("digest.cron", rules.digest.cron),
                            ("digest.weekly_cron", rules.digest.weekly_cron),
                            ("consent.reminder_cron", rules.consent.reminder_cron)):
        try:
            if expression:
                check_cron(expression)
        except ValueError as exc:
            raise ConfigError(str(path), key, f"not a cron expression: {exc}") from None
    if rules.exchange.min_balance > 0 or rules.exchange.max_balance < 0:
        raise ConfigError(str(path), "exchange.min_balance", "limits must surround zero")
    if rules.exchange.newcomer_min_balance > 0:
        raise ConfigError(str(path), "exchange.newcomer_min_balance", "must be 0 or below")
    if rules.consent.reminder_before >= rules.consent.period:
        raise ConfigError(
            str(path), "consent.reminder_before", "must be shorter than consent.period"
        )
    if rules.exchange.renewal_notice_before >= rules.exchange.item_lifetime:
        raise ConfigError(str(path), "exchange.renewal_notice_before",
                          "must be shorter than exchange.item_lifetime")
    if rules.posting.max_kb <= 0:
        raise ConfigError(str(path), "posting.max_kb", "must be positive")
    if rules.bounces.threshold < 1 or rules.bounces.probes < 1:
        raise ConfigError(str(path), "bounces.threshold", "threshold and probes must be 1 or more")
    if rules.posting.max_posts_per_day < 0:
        raise ConfigError(str(path), "posting.max_posts_per_day", "must be 0 (no limit) or more")
    if rules.exchange.points_per_hour <= 0:
        raise ConfigError(str(path), "exchange.points_per_hour", "must be positive")


def read_charter(rules_dir: Path, rules: ListRules, rules_name: str) -> str:
    """The text of the list's charter (`moderation.charter_file`, relative to the rules
    folder), or "" when it has none; a missing or empty file is a mistake in the rules."""
    name = rules.moderation.charter_file
    if not name:
        return ""
    where = str(rules_dir / f"{rules_name}.toml")
    path = rules_dir / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(where, "moderation.charter_file", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, "moderation.charter_file", f"cannot read {path}: {exc}") from None
    if not text.strip():
        raise ConfigError(where, "moderation.charter_file", f"the file is empty: {path}")
    return text.strip() + "\n"
