"""What one transaction of work receives: `now`, the config, the stores (one door per
domain) and the outbox. The worker builds one per message, the timers one per round; the
session itself stays behind the stores and the outbox."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from mailbot.config import Config
from mailbot.outbound.compose import Composer
from mailbot.outbound.outbox import Outbox
from mailbot.reading.ahead import PostAhead
from mailbot.storage.stores import Stores


@dataclass(frozen=True)
class Context:
    config: Config
    stores: Stores
    outbox: Outbox
    now: datetime
    # posts read ahead, by message id (handling/ahead.py): a worker process's on SQLite
    ahead: Mapping[int, PostAhead] = field(default_factory=dict)

    @classmethod
    def open(cls, session: Session, config: Config, composer: Composer, now: datetime,
             ahead: Mapping[int, PostAhead] | None = None) -> "Context":
        return cls(config, Stores.of(session), Outbox(session, config, composer, now), now,
                   {} if ahead is None else ahead)
