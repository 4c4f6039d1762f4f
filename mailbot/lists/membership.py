"""The roster: who is on a list, in which mode, in which language."""

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from mailbot.storage.models import Member

DELIVERY_MODES = ("each", "daily", "weekly", "off")


def new_token() -> str:
    """An unguessable single-use token, safe in an email local part (lowercase, no '+')."""
    return secrets.token_hex(16)


def get_member(session: Session, list_name: str, email: str) -> Member | None:
    return session.scalar(
        select(Member).where(Member.list_name == list_name, Member.email == email.lower())
    )


def list_members(session: Session, list_name: str) -> Sequence[Member]:
    return session.scalars(
        select(Member).where(Member.list_name == list_name).order_by(Member.email)
    ).all()


def add_member(session: Session, list_name: str, email: str, name: str, now: datetime,
               language: str | None = None) -> tuple[Member, bool]:
    """Add someone (or return them if already there); the flag says whether they are new."""
    existing = get_member(session, list_name, email)
    if existing is not None:
        return existing, False
    member = Member(list_name=list_name, email=email.lower(), name=name, language=language,
                    delivery="each", nomail=False, verp_token=new_token(), post_count=0,
                    joined_at=now)
    session.add(member)
    session.flush()
    return member, True


def remove_member(session: Session, list_name: str, email: str) -> bool:
    member = get_member(session, list_name, email)
    if member is None:
        return False
    session.delete(member)
    session.flush()
    return True


def gets_mail() -> ColumnElement[bool]:
    """Neither paused by the member (`nomail`) nor suspended for bounces."""
    return and_(Member.nomail.is_(False), Member.suspended_at.is_(None))


def receiving_each(session: Session, list_name: str) -> Sequence[Member]:
    """Members who get every post as it comes: mode `each`, not paused nor suspended."""
    return session.scalars(
        select(Member)
        .where(Member.list_name == list_name, Member.delivery == "each", gets_mail())
        .order_by(Member.id)
    ).all()
