"""The `mailbot` command: thin verbs that load the config, build what they need, call one
function, and say what happened in one line (or fail with one clear line, exit 1)."""

import argparse
import asyncio
import csv
import faulthandler
import json
import logging
import os
import signal
import smtplib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mailbot import __version__
from mailbot.config import Config, ListConfig, load_config, trust_warnings
from mailbot.config import dkim as dkim_keys
from mailbot.config.addresses import resolve
from mailbot.config.rules import DIGEST_MODES
from mailbot.core import logs
from mailbot.core.children import Children
from mailbot.core.clock import SystemClock
from mailbot.core.errors import MailbotError
from mailbot.core.where import where
from mailbot.digests.schedule import next_digest_at
from mailbot.exchange import opening, payments
from mailbot.handling.actions import ask
from mailbot.handling.dispatch import replay
from mailbot.handling.explain import ListStates, describe, explain_file
from mailbot.letters import monthly
from mailbot.lists import buddies
from mailbot.lists.archive import Archived, write_mbox
from mailbot.outbound.compose import Composer
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_when
from mailbot.outbound.templates_check import TemplateReport, check_templates
from mailbot.reading.amounts import as_hours
from mailbot.reading.authenticity import keep_trusted_results
from mailbot.reading.message import envelope_sender, header, parse, recipients
from mailbot.reading.roster import read_roster
from mailbot.service import Service
from mailbot.storage import db, deliveries
from mailbot.storage.members import Members
from mailbot.storage.messages import Messages
from mailbot.storage.moderating import Bans, MembershipLog
from mailbot.storage.proposals import Proposals
from mailbot.storage.status import read_status
from mailbot.storage.stores import Stores

Verb = Callable[[argparse.Namespace, Config], int]
# A worker process's CPU priority below its listener's (man 2 nice): while mail pours in,
# the 250s come first and handling takes the time that is left. Not on SQLite, where the
# listener's commits wait for the worker's turn at the one writer: a worker put aside
# while it holds the turn would make the listener wait longer (bench/intake.py --workers
# 1, two runs each: 346-370 accepted/s at nice 10, 395-413 at 0).
WORKER_NICENESS = 10
SLOW_CLOSE = 0.5  # seconds after which the end of a daemon's threads is logged


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and (args.verb != "ledger" or any(e.startswith("-") for e in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:  # "ledger import --list sel FILE": FILE after the options
        args.words += extra
    logs.configure(args.log_level or ("info" if args.verb == "serve" else "warning"),
                   args.log_format)
    try:
        if args.verb == "dkim":  # makes a key: needs no config
            return dkim_verb(args)
        if args.verb == "explain":  # reads files; a config only adds the lists and members
            return explain_verb(args, load_config(args.config)
                                if args.config.exists() else None)
        config = load_config(args.config)
        verb: Verb = args.run
        return verb(args, config)
    except (MailbotError, OSError, ValueError) as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a database that cannot be reached, for instance
        print(f"mailbot: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailbot", description=__doc__)
    parser.add_argument("-c", "--config", default="config.toml", type=Path)
    parser.add_argument("--version", action="version", version=f"mailbot {__version__}")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="default: info for serve, warning for the other verbs")
    parser.add_argument("--log-format", choices=["text", "json"], default="text")
    # -c may also come after the verb ("mailbot serve -c x.toml"): SUPPRESS keeps the
    # top-level value when the verb does not repeat it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default=argparse.SUPPRESS, type=Path)
    common.add_argument("--log-level", default=argparse.SUPPRESS,
                        choices=["debug", "info", "warning", "error"])
    common.add_argument("--log-format", default=argparse.SUPPRESS, choices=["text", "json"])

    def add(group: Any, name: str, **options: Any) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], **options)
        return sub

    verbs = parser.add_subparsers(dest="verb", required=True)
    serving = add(verbs, "serve", help="run the daemon")
    # a worker process of a daemon with server.workers (started by it, never by hand)
    serving.add_argument("--wake-fd", type=int, help=argparse.SUPPRESS)
    serving.add_argument("--worker", help=argparse.SUPPRESS)  # "k/n": the k-th of n
    serving.set_defaults(run=serve)
    check_verb = add(verbs, "check", help="validate config, rules and templates")
    check_verb.add_argument("-v", "--verbose", action="store_true",
                            help="list every template in use and where it comes from")
    check_verb.set_defaults(run=check)
    members = add(verbs, "members", help="manage a list's members")
    actions = members.add_subparsers(dest="action", required=True)
    for action, helptext in (("add", "add one member"), ("remove", "remove one member"),
                             ("list", "list members"), ("import", "import a CSV email,name")):
        sub = add(actions, action, help=helptext)
        sub.add_argument("--list", dest="list_name", required=True)
        if action == "remove":
            sub.add_argument("email")
        if action == "add":
            sub.add_argument("email", nargs="?", default="")
            sub.add_argument("name", nargs="?", default="")
            sub.add_argument("--name", dest="full_name", help="the member's name")
            sub.add_argument("--buddy", help="for a member without email: the member who "
                                             "acts for them by email")
        if action == "import":
            sub.add_argument("file", type=Path)
            sub.add_argument("--invite", action="store_true",
                             help="mail each one an invitation to confirm instead")
        sub.set_defaults(run=members_verb)
    explain = add(verbs, "explain", help="what mailbot reads in message files, changing nothing")
    explain.add_argument("files", nargs="+", type=Path)
    explain.add_argument("--to", help="the address it is sent to (default: its To/Cc)")
    explain.add_argument("--json", action="store_true", help="one JSON object a line")
    explain.add_argument("--body", action="store_true",
                         help="each file is a bare body (HTML when it ends in .html)")
    inject = add(verbs, "inject", help="process message files as if received")
    inject.add_argument("files", nargs="+", type=Path)
    inject.add_argument("--to", help="envelope recipient (default: a list address in To/Cc)")
    inject.set_defaults(run=inject_verb)
    send = add(verbs, "send", help="mail a message to the daemon's own SMTP listener (to try it)")
    send.add_argument("--from", dest="sender", required=True)
    send.add_argument("--to", required=True)
    send.add_argument("--subject", default="")
    send.add_argument("body", nargs="?", help="the text (default: read from standard input)")
    send.set_defaults(run=send_verb)
    add(verbs, "status", help="queues, held and quarantined messages, daemons, timers"
        ).set_defaults(run=status_verb)
    queue_cmd = add(verbs, "queue", help="show the outbound queue")
    queue_cmd.add_argument("action", nargs="?", choices=["retry"])
    queue_cmd.set_defaults(run=queue_verb)
    quarantine = add(verbs, "quarantine", help="messages that could not be handled")
    quarantine.add_argument("action", nargs="?", choices=["show", "replay"])
    quarantine.add_argument("id", nargs="?", type=int)
    quarantine.set_defaults(run=quarantine_verb)
    proposals = add(verbs, "proposals", help="open proposals and recent decisions")
    proposals.add_argument("--list", dest="list_name")
    proposals.add_argument("--all", action="store_true", help="settled ones too")
    proposals.set_defaults(run=proposals_verb)
    ledger = add(verbs, "ledger", help="balances, statements, CSV export, corrections")
    # one positional list, so that FILE may come after the options ("import --list sel F")
    ledger.add_argument("words", nargs="*", metavar="ACTION [FILE]",
                        help=f"{'|'.join(LEDGER_ACTIONS)} (default balances); import: the CSV "
                             "email,points, a header line first")
    ledger.add_argument("--against", help="import: the system account that balances it")
    ledger.add_argument("--out", type=Path, help="export: write the CSV there")
    ledger.add_argument("--list", dest="list_name", required=True)
    ledger.add_argument("--member", help="whose statement")
    ledger.add_argument("--entry", type=int, help="the entry to reverse")
    ledger.add_argument("--by", help="the moderator recording a correction")
    ledger.set_defaults(run=ledger_verb)
    letters = add(verbs, "letters", help="printable monthly letters of members without email")
    letters.add_argument("--list", dest="list_name", required=True)
    letters.add_argument("--month", required=True, help="YYYY-MM")
    letters.add_argument("--out", required=True, type=Path, help="the folder to write to")
    letters.set_defaults(run=letters_verb)
    digest = add(verbs, "digest", help="digests")
    digest.add_argument("action", choices=["send"])
    digest.add_argument("--list", dest="list_name")
    digest.set_defaults(run=digest_verb)
    dkim = add(verbs, "dkim", help="DKIM signing keys")
    dkim_actions = dkim.add_subparsers(dest="action", required=True)
    keygen = add(dkim_actions, "keygen", help="write a new private key, print its DNS record")
    keygen.add_argument("--selector", required=True, help="s=, e.g. mail2026")
    keygen.add_argument("--domain", required=True, help="d=, the lists' domain")
    keygen.add_argument("--out", required=True, type=Path, help="the key file to write")
    keygen.add_argument("--bits", type=int, default=2048, choices=[1024, 2048, 3072, 4096])
    archive = add(verbs, "archive", help="the lists' archive of posts")
    archive.add_argument("action", choices=["export"])
    archive.add_argument("--list", dest="list_name", required=True)
    archive.add_argument("--out", type=Path, help="the mbox file to write (default: stdout)")
    archive.set_defaults(run=archive_verb)
    database = add(verbs, "db", help="database schema")
    database.add_argument("action", choices=["upgrade"])
    database.set_defaults(run=db_verb)
    return parser


def serve(args: argparse.Namespace, config: Config) -> int:
    worker = args.wake_fd is not None
    if worker:  # stopped by the listener (SIGTERM, or the end of the pipe), not by ^C
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        _templates_or_fail(config)  # a broken template is found now, not in a mailbox
    # a listener with workers: its commits (the 250s wait for them) go before theirs
    database = db.Database(config.server.database_url,
                           writes_first=bool(config.server.workers) and not worker)
    if not worker:  # the listener upgrades before it starts its workers
        before, after = db.upgrade(database.engine)
        if before != after:
            logging.getLogger("mailbot").info("database schema upgraded from %s to %s",
                                              before or "empty", after)
    if worker and not database.single_writer:
        try:
            os.nice(WORKER_NICENESS)  # a burst of arrivals is answered first
        except OSError as exc:  # a sandbox that forbids it: the same priority, then
            logging.getLogger("mailbot").warning("worker process: priority unchanged: %s",
                                                 exc)
    service = Service(config, database=database)
    if worker and database.single_writer and args.worker:
        number, count = (int(n) for n in args.worker.split("/"))
        if count > 1:  # one worker alone has no one to read ahead beside
            service.take_share(number, count)

    ended: list[float] = []  # when the daemon stopped (the threads it leaves end after)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM,) if worker else (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        children = None if worker else _workers(args, config)
        loop.add_signal_handler(signal.SIGUSR1, _tell_where, loop, children)
        if worker:
            await service.serve_as_worker(stop, args.wake_fd)
        else:
            await service.serve(stop, workers=children)
        ended.append(time.monotonic())

    try:
        asyncio.run(run())
    finally:
        # the loop is gone and its SIGUSR1 with it: a slow end still says where it waits
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        service.close()
    if ended and (closing := time.monotonic() - ended[0]) > SLOW_CLOSE:
        # the threads still at work when the loop ended: the database's, a DNS question
        logging.getLogger("mailbot").info("the threads ended %.2f s after the daemon stopped",
                                          closing)
    return 0


def _tell_where(loop: asyncio.AbstractEventLoop, children: Children | None) -> None:
    """SIGUSR1: each task and thread, and where it waits, into the log; passed on to the
    worker processes (those started), which write theirs."""
    logging.getLogger("mailbot").warning("where this process is (SIGUSR1), pid %d:\n%s",
                                         os.getpid(), where(loop))
    if children is not None:
        children.pass_on(signal.SIGUSR1)


def _workers(args: argparse.Namespace, config: Config) -> Children | None:
    """`server.workers` processes, each this command again with the read end of its pipe."""
    if not config.server.workers:
        return None
    level = args.log_level or "info"

    def command(wake_fd: int, number: int) -> list[str]:
        return [sys.executable, "-m", "mailbot.cli", "-c", str(config.path),
                "--log-level", level, "--log-format", args.log_format,
                "serve", "--wake-fd", str(wake_fd), "--worker", f"{number}/{config.server.workers}"]

    return Children(command, config.server.workers)


def check(args: argparse.Namespace, config: Config) -> int:
    templates = _templates_or_fail(config)
    yours = [stem for stem, source in templates.used if source == "yours"]
    print(f"templates: {len(templates.used)} in use, from {Composer.of(config).shipped}"
          + (f"; yours: {', '.join(yours)}" if yours else ""))
    if args.verbose:
        for stem, source in templates.used:
            print(f"  {stem} ({source})")
    database = db.Database(config.server.database_url)
    try:
        current = db.current_revision(database.engine)
    finally:
        database.close()
    state = "up to date" if current == db.head_revision() else "needs `mailbot db upgrade`"
    names = ", ".join(m.address for m in config.lists)
    for warning in trust_warnings(config.server):
        print(f"{config.path}: warning: {warning}")
    print(f"{config.path}: OK — {len(config.lists)} list(s): {names}; database {state}")
    return 0


def _templates_or_fail(config: Config) -> TemplateReport:
    templates = check_templates(Composer.of(config), [m.name for m in config.lists])
    if templates.problems:
        raise MailbotError("\n".join(templates.problems))
    return templates
def dkim_verb(args: argparse.Namespace) -> int:
    """Write a new key readable by its owner only (never over an existing file), print the
    TXT record to publish on stdout and what to do next on stderr."""
    if not args.selector.replace("-", "").replace("_", "").isalnum():
        raise MailbotError(f"--selector {args.selector!r}: letters, digits, - and _ only")
    key = dkim_keys.generate_key(args.bits)
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise MailbotError(f"{args.out} already exists: remove it or choose another --out"
                           ) from None
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key)
    print(dkim_keys.dns_record(args.selector, args.domain, key))
    print(f"wrote {args.out} (RSA {args.bits} bits, mode 0600). Publish the TXT record above "
          f"in the DNS of {args.domain} (zone files: split the quoted value in strings of at "
          f"most 255 characters), then add to the config:\n[dkim]\n"
          f'selector = "{args.selector}"\nkey_file = "{args.out.resolve()}"', file=sys.stderr)
    return 0


def db_verb(args: argparse.Namespace, config: Config) -> int:
    database = db.Database(config.server.database_url)
    try:
        before, after = db.upgrade(database.engine)
    finally:
        database.close()
    print(f"database schema at {after}" + ("" if before == after else f" (was {before})"))
    return 0


def _with_db(config: Config, work: Callable[..., int], *extra: object) -> int:
    database = db.Database(config.server.database_url)
    try:
        if db.current_revision(database.engine) is None:  # a new install: create it
            db.upgrade(database.engine)
        db.check_schema(database.engine)  # an older schema is upgraded on purpose only
        return database.transaction(work, *extra)
    finally:
        database.close()


def members_verb(args: argparse.Namespace, config: Config) -> int:
    try:
        mlist = config.get_list(args.list_name)
    except KeyError:
        raise MailbotError(f"no list named {args.list_name!r} in {config.path}") from None
    now = SystemClock().now()
    if args.action == "import":
        rows = _read_csv(args.file)
        return _with_db(config, _import, config, mlist, rows, args.invite, now)
    return _with_db(config, _members_one, mlist, args, now)


def _members_one(session: Session, mlist: ListConfig, args: argparse.Namespace,
                 now: datetime) -> int:
    members = Members(session)
    if args.action == "list":
        roster = members.roster(mlist.name)
        reminded = MembershipLog(session).latest(mlist.name, [m.email for m in roster],
                                                 ("remind",))
        for member in roster:
            flags = " (nomail)" if member.nomail else ""
            if member.suspended_at is not None:
                flags += f" (suspended for bounces since {member.suspended_at:%Y-%m-%d})"
            if member.moderated_at is not None:
                until = f" until {member.moderated_until:%Y-%m-%d %H:%M}" \
                    if member.moderated_until else ""
                flags += f" (moderated since {member.moderated_at:%Y-%m-%d}{until})"
            if member.email in reminded:
                event = reminded[member.email]
                flags += f" (charter reminder {event.at:%Y-%m-%d} by {event.by})"
            print(f"{member.email}\t{member.name}\t{member.delivery}{flags}")
        for ban in Bans(session).all(mlist.name):
            print(f"{ban.email}\t\tbanned (since {ban.banned_at:%Y-%m-%d}, by {ban.banned_by})")
        return 0
    if args.action == "add" and args.buddy:
        return _add_without_email(members, mlist, args, now)
    if args.action == "add":
        email = _address(args.email)
        _, created = members.add(mlist.name, email, args.full_name or args.name, now)
        print(f"{args.email}: {'added' if created else 'already a member'}")
        return 0
    if not members.remove(mlist.name, args.email):
        raise MailbotError(f"{args.email} is not a member of {mlist.address}")
    print(f"{args.email}: removed")
    return 0


def _add_without_email(members: Members, mlist: ListConfig, args: argparse.Namespace,
                       now: datetime) -> int:
    name = args.full_name or args.name or (args.email if "@" not in args.email else "")
    member = buddies.add_without_email(members, mlist, name, _address(args.buddy), now)
    print(f"{member.name}: added without email ({member.email}), in the care of {member.buddy}")
    return 0


def _address(text: str, where: str = "") -> str:
    """A valid address, lowercased; else MailbotError saying where (file:line) and why."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        place = f"{where}: " if where else ""
        raise MailbotError(f"{place}{text!r} is not an address: {exc}") from None


def _read_csv(path: Path) -> list[tuple[str, str]]:
    """The file's rows, or MailbotError naming every refused line: all or nothing."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MailbotError(f"{path}: cannot read it ({exc.strerror}); check the path") from None
    rows, refused = read_roster(data)
    if refused:
        lines = [f"{path}:{r.line}: {r.reason}" for r in refused]
        raise MailbotError("\n".join(lines) + f"\nnothing imported: correct these "
                           f"{len(refused)} line(s) and import the file again")
    return [(row.email, row.name) for row in rows]


def _import(session: Session, config: Config, mlist: ListConfig,
            rows: list[tuple[str, str]], invite: bool, now: datetime) -> int:
    ctx = Context.open(session, config, Composer.of(config), now)
    members = ctx.stores.members
    if not invite:
        done = members.add_many(mlist.name, rows, now)
        print(f"{done} added, {len(rows) - done} already there")
        return 0
    done = 0
    for email, name in rows:
        if members.get(mlist.name, email) is None:
            confirmation = ask(ctx, mlist, "join", email=email, target=email, name=name,
                               language=mlist.language)
            ctx.outbox.send(mlist, "member/invite", mlist.language, {}, to=email,
                            purpose="notice", reply_token=confirmation.token)
            done += 1
    print(f"{done} invited, {len(rows) - done} already there")
    return 0


def explain_verb(args: argparse.Namespace, config: Config | None) -> int:
    """Exit 1 when some file could not be read (each says why), else 0."""
    failed = False
    states = ListStates(config) if config is not None else None
    try:
        for path in args.files:
            found = explain_file(path, config, to=args.to, body=args.body, states=states)
            failed = failed or found.error is not None
            if args.json:
                print(json.dumps(found.as_json(), ensure_ascii=False), flush=True)
            else:
                print("\n".join(describe(found)), flush=True)
    finally:
        if states is not None:
            states.close()
    return 1 if failed else 0


def inject_verb(args: argparse.Namespace, config: Config) -> int:
    service = Service(config)
    try:
        return asyncio.run(_inject(service, config, args.files, args.to))
    finally:
        service.close()


async def _inject(service: Service, config: Config, files: list[Path], to: str | None) -> int:
    db.check_schema(service.db.engine)
    for path in files:
        # a file's origin is unknown: no Authentication-Results of ours is believed in it
        raw = keep_trusted_results(path.read_bytes(), config.server.authserv_id,
                                   trusted=False)
        msg = parse(raw)
        candidates = [to] if to else [*recipients(msg), header(msg, "Delivered-To")]
        found = [(a, r) for a in candidates if a
                 for r in [resolve(a, config.lists, config.server.separator)] if r is not None]
        if not found:
            raise MailbotError(f"{path}: no list address in To/Cc; say which with --to")
        await service.accept(raw, envelope_sender(msg), found[:1])
        print(f"{path}: stored for {found[0][0]}")
    await service.drain()
    return 0


def send_verb(args: argparse.Namespace, config: Config) -> int:
    """A complete message (From, To, Date, Message-ID) to server.listen, as a mail client
    would send it."""
    listen = config.server.listen
    if listen is None:
        raise MailbotError(f"{config.path}: server.listen is off; there is no SMTP listener")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = args.sender, args.to, args.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=args.sender.rpartition("@")[2] or "localhost")
    msg.set_content(args.body if args.body is not None else sys.stdin.read())
    host = "127.0.0.1" if listen.host in ("0.0.0.0", "::", "") else listen.host
    with smtplib.SMTP(host, listen.port, timeout=30) as smtp:
        smtp.send_message(msg, from_addr=args.sender, to_addrs=[args.to])
    print(f"sent to {args.to} through {host}:{listen.port}")
    return 0


def status_verb(args: argparse.Namespace, config: Config) -> int:
    return _with_db(config, _status, config)


def _status(session: Session, config: Config) -> int:
    now, zone = SystemClock().now(), config.server.timezone
    state = read_status(session)

    def when(moment: datetime | None) -> str:
        return format_when(moment, zone, "en") + f" ({_ago(now, moment)})" if moment else "never"

    def counts(table: dict[str, int]) -> str:
        return ", ".join(f"{k}: {n}" for k, n in sorted(table.items())) or "none"

    print(f"messages received: {counts(state.messages)}")
    print(f"deliveries: {counts(state.deliveries)}; oldest undelivered: "
          f"{when(state.oldest_undelivered)}")
    print(f"held posts: {counts(state.held)}")
    print(f"quarantined: {state.messages.get('quarantined', 0)}"
          + ("  (mailbot quarantine show ID / replay ID)" if state.quarantined else ""))
    for message_id, at, list_name, sender in state.quarantined:
        print(f"  {message_id}\t{at:%Y-%m-%d %H:%M}\t{list_name}\t{sender or '<>'}")
    if not state.daemons:
        print("daemons: none running")
    for host, pid, beat, timers in state.daemons:
        print(f"daemon {host} pid {pid}: last heartbeat {when(beat)}; last timer round "
              f"{when(timers)}")
    for mlist in config.lists:
        upcoming = {mode: next_digest_at(mode, mlist.rules.digest, zone, now)
                    for mode in DIGEST_MODES}
        print(f"{mlist.address}: next digest " + "; ".join(
            f"{mode} {format_when(at, zone, 'en') if at else 'never'}"
            for mode, at in upcoming.items()))
    return 0


def _ago(now: datetime, moment: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def queue_verb(args: argparse.Namespace, config: Config) -> int:
    return _with_db(config, _queue, args.action == "retry")


def _queue(session: Session, retry: bool) -> int:
    if retry:
        print(f"{deliveries.retry_all(session, SystemClock().now())} deliveries due now")
        return 0
    counts = deliveries.status_counts(session)
    print(", ".join(f"{status}: {n}" for status, n in counts) or "the queue is empty")
    for delivery, purpose in deliveries.waiting(session, 50):
        print(f"{delivery.id}\t{delivery.status}\t{purpose}\t{delivery.rcpt}\t"
              f"attempts={delivery.attempts}\tnext={delivery.next_attempt_at:%Y-%m-%d %H:%M}"
              f"\t{delivery.last_error or ''}")
    return 0


LEDGER_ACTIONS = ("balances", "statement", "csv", "reverse", "import", "export")


def ledger_verb(args: argparse.Namespace, config: Config) -> int:
    args.action = args.words[0] if args.words else "balances"
    args.file = Path(args.words[1]) if len(args.words) > 1 else None
    if args.action not in LEDGER_ACTIONS or len(args.words) > 2:
        raise MailbotError(f"ledger: say one of {', '.join(LEDGER_ACTIONS)} (and a FILE to "
                           "import)")
    try:
        mlist = config.get_list(args.list_name)
    except KeyError:
        raise MailbotError(f"no list named {args.list_name!r} in {config.path}") from None
    if args.action == "statement" and not args.member:
        raise MailbotError("say whose statement: --member EMAIL")
    if args.action == "reverse" and (args.entry is None or not mlist.is_moderator(args.by or "")):
        raise MailbotError("a correction needs --entry ID and --by MODERATOR (a moderator of "
                           f"{mlist.address})")
    if args.action == "import":
        if args.file is None:
            raise MailbotError("say which file: mailbot ledger import --list NAME FILE")
        with args.file.open(newline="", encoding="utf-8-sig") as handle:
            balances = opening.parse_balances(csv.reader(handle), mlist, str(args.file))
        return _with_db(config, _ledger_import, mlist, balances, args)
    if args.action == "export":
        return _with_db(config, _ledger_export, mlist, args.out)
    return _with_db(config, _ledger, config, mlist, args)


def _ledger_import(session: Session, mlist: ListConfig, balances: list[tuple[str, int]],
                   args: argparse.Namespace) -> int:
    written = opening.import_balances(Stores.of(session), mlist, balances,
                                      against=args.against, recorded_by=args.by or "import",
                                      now=SystemClock().now())
    print(f"{written} opening balance(s) recorded from {args.file}")
    return 0


def _ledger_export(session: Session, mlist: ListConfig, out: Path | None) -> int:
    if out is None:  # the CSV alone on stdout, to be piped
        opening.export_journal(Stores.of(session), mlist, sys.stdout)
        return 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        count = opening.export_journal(Stores.of(session), mlist, handle)
    print(f"{count} entries written to {out}")
    return 0


def _ledger(session: Session, config: Config, mlist: ListConfig,
            args: argparse.Namespace) -> int:
    ctx = Context.open(session, config, Composer.of(config), SystemClock().now())
    ledger = ctx.stores.ledger
    pph, unit = mlist.rules.exchange.points_per_hour, mlist.rules.exchange.unit
    if args.action == "balances":
        on_list = {m.email for m in ctx.stores.members.roster(mlist.name)}
        for email in sorted(on_list | set(ledger.accounts(mlist.name))):  # who left, too
            points = ledger.balance(mlist.name, email)
            left = "" if email in on_list else "\t(not on the list)"
            print(f"{email}\t{points} {unit}\t{as_hours(points, pph)}{left}")
    elif args.action == "statement":
        for entry in ledger.statement(mlist.name, args.member.lower(), limit=1000):
            signed = entry.amount if entry.payee == args.member.lower() else -entry.amount
            other = entry.payer if signed > 0 else entry.payee
            print(f"{entry.id}\t{entry.created_at:%Y-%m-%d %H:%M}\t{signed:+d} {unit}\t"
                  f"{as_hours(signed, pph)}\t{other}\t{entry.memo}")
    elif args.action == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "created_at", "payer", "payee", "amount", "unit", "memo",
                         "reverses", "recorded_by"])
        for entry in ledger.journal(mlist.name):
            writer.writerow([entry.id, entry.created_at.isoformat(), entry.payer, entry.payee,
                             entry.amount, unit, entry.memo, entry.reverses_id or "",
                             entry.recorded_by])
    else:
        correction = payments.reverse(ctx, mlist, args.entry, recorded_by=args.by.lower())
        if correction is None:
            raise MailbotError(f"entry {args.entry} does not exist or is already corrected")
        print(f"entry {correction.id} reverses entry {args.entry}")
    return 0


def letters_verb(args: argparse.Namespace, config: Config) -> int:
    """One PDF per member without email, for the month, in --out."""
    try:
        mlist = config.get_list(args.list_name)
    except KeyError:
        raise MailbotError(f"no list named {args.list_name!r} in {config.path}") from None
    month = monthly.parse_month(args.month)
    args.out.mkdir(parents=True, exist_ok=True)
    return _with_db(config, _letters, config, mlist, month, args.out)


def _letters(session: Session, config: Config, mlist: ListConfig, month: tuple[int, int],
             out: Path) -> int:
    ctx = Context.open(session, config, Composer(), SystemClock().now())
    written = 0
    for member in ctx.stores.members.without_email(mlist.name):
        name, pdf = monthly.build_letter(ctx, mlist, member, *month)
        (out / name).write_bytes(pdf)
        written += 1
    print(f"{written} letter(s) written to {out}")
    return 0


def digest_verb(args: argparse.Namespace, config: Config) -> int:
    """Send now every digest that has something new, as if its time had come."""
    if args.list_name is not None and args.list_name not in {m.name for m in config.lists}:
        raise MailbotError(f"no list named {args.list_name!r} in {config.path}")
    service = Service(config)

    async def run() -> int:
        _with_db(config, lambda session: 0)  # creates a new database, refuses a stale one
        sent = await service.send_digests_now(args.list_name)
        await service.drain()
        return sent

    try:
        sent = asyncio.run(run())
    finally:
        service.close()
    print(f"{sent} digest(s) sent" if sent else "nothing new: no digest sent")
    return 0


def archive_verb(args: argparse.Namespace, config: Config) -> int:
    """Every archived post of the list, in order, as an mbox (`--out`, else stdout)."""
    if args.list_name not in {m.name for m in config.lists}:
        raise MailbotError(f"no list named {args.list_name!r} in {config.path}")

    posts: list[Archived] = []

    def read(session: Session) -> int:
        posts.extend(Archived(r.archive_number or 0, r.raw, r.mail_from,
                              r.distributed_at or r.received_at)
                     for r in Messages(session).archived(args.list_name))
        return len(posts)

    _with_db(config, read)
    if args.out is not None:
        count = write_mbox(posts, args.out)
        print(f"{count} post(s) of {args.list_name} written to {args.out}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "archive.mbox"
        write_mbox(posts, out)
        sys.stdout.buffer.write(out.read_bytes())
    return 0


def proposals_verb(args: argparse.Namespace, config: Config) -> int:
    if args.list_name is not None and args.list_name not in {m.name for m in config.lists}:
        raise MailbotError(f"no list named {args.list_name!r} in {config.path}")
    return _with_db(config, _proposals, config, args.list_name, args.all)


def _proposals(session: Session, config: Config, list_name: str | None, everything: bool) -> int:
    store = Proposals(session)
    rows = store.listing(list_name, everything)
    standing = store.standing_objections([p.id for p in rows])
    for p in rows:
        objections = len(standing[p.id])
        when = format_when(p.deadline, config.server.timezone, "en")
        late = " (settled late)" if p.settled_late else ""
        print(f"{p.list_name}\tno. {p.number}\t{p.status}{late}\tdeadline {when}\t"
              f"objections {objections}\t{p.proposer}\t{p.title}")
    if not rows:
        print("no open proposal" if not everything else "no proposal")
    return 0


def quarantine_verb(args: argparse.Namespace, config: Config) -> int:
    if args.action and args.id is None:
        raise MailbotError(f"say which message: mailbot quarantine {args.action} ID")
    if args.action == "replay":
        code = _with_db(config, _replay, config, args.id)
        service = Service(config)
        try:
            asyncio.run(service.drain())
        finally:
            service.close()
        return code
    return _with_db(config, _quarantine, args.action, args.id)


def _replay(session: Session, config: Config, message_id: int) -> int:
    ctx = Context.open(session, config, Composer.of(config), SystemClock().now())
    if not replay(ctx, message_id):
        raise MailbotError(f"no stored message {message_id}")
    print(f"message {message_id} handled again")
    return 0


def _quarantine(session: Session, action: str | None, message_id: int | None) -> int:
    if action == "show":
        assert message_id is not None  # quarantine_verb asks for it
        row = Messages(session).get(message_id)
        if row is None:
            raise MailbotError(f"no stored message {message_id}")
        sys.stdout.write(row.raw.decode("utf-8", "replace"))
        print(f"\n--- {row.status}: {row.outcome or ''}\n{row.error or ''}")
        return 0
    rows = Messages(session).quarantined()
    for row in rows:
        last = (row.error or "").strip().splitlines()[-1:] or [""]
        print(f"{row.id}\t{row.received_at:%Y-%m-%d %H:%M}\t{row.rcpt}\t{last[0]}")
    if not rows:
        print("nothing in quarantine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
