"""Held posts and actions waiting for a reply: the doors to the `hold` and `confirmation`
tables. Both are found by their single-use token."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mailbot.core.tokens import new_token
from mailbot.storage.models import Confirmation, Hold

__all__ = ["Confirmation", "Confirmations", "Hold", "Holds"]

# Looked up for each reply to a confirm address (built once: building a statement costs
# more than running it).
_HOLD = select(Hold).where(Hold.token == bindparam("token"))
_CONFIRMATION = select(Confirmation).where(Confirmation.token == bindparam("token"))


class Holds:
    def __init__(self, session: Session) -> None:
        self.session = session

    def hold(self, list_name: str, inbound_id: int, reason: str, now: datetime) -> Hold:
        hold = Hold(list_name=list_name, inbound_id=inbound_id, token=new_token(),
                    reason=reason, status="pending", created_at=now)
        self.session.add(hold)
        self.session.flush()
        return hold

    def by_token(self, token: str) -> Hold | None:
        return self.session.scalar(_HOLD, {"token": token})


class Confirmations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ask(self, list_name: str, action: str, *, email: str, target: str, name: str,
            language: str, now: datetime, valid_for: timedelta, amount: int | None = None,
            memo: str | None = None) -> Confirmation:
        """A pending action and the single-use token that confirms it."""
        confirmation = Confirmation(
            token=new_token(), list_name=list_name, action=action, email=email,
            target=target, name=name, language=language, created_at=now,
            expires_at=now + valid_for, amount=amount, memo=memo)
        self.session.add(confirmation)
        self.session.flush()
        return confirmation

    def by_token(self, token: str) -> Confirmation | None:
        return self.session.scalar(_CONFIRMATION, {"token": token})

    def question_to(self, list_name: str, email: str, message_ids: Sequence[str],
                    now: datetime) -> Confirmation | None:
        """The newest open question the bot asked `email` in one of these messages (a
        question is kept as a pending action "question": its target the Message-ID of
        the bot's message, its memo the request it asked about)."""
        return self.session.scalars(
            select(Confirmation).where(
                Confirmation.list_name == list_name, Confirmation.action == "question",
                Confirmation.email == email, Confirmation.target.in_(message_ids),
                Confirmation.used_at.is_(None), Confirmation.expires_at >= now)
            .order_by(Confirmation.id.desc()).limit(1)).first()
