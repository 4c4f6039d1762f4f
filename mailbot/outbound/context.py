"""What one transaction of work receives: `now`, the config, the stores (one door per
domain) and the outbox. The worker builds one per message, the timers one per round; the
session itself stays behind the stores and the outbox."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailbot.config import Config
from mailbot.outbound.compose import Composer
from mailbot.outbound.outbox import Outbox
from mailbot.storage.stores import Stores


@dataclass(frozen=True)
class Context:
    config: Config
    stores: Stores
    outbox: Outbox
    now: datetime

    @classmethod
    def open(cls, session: Session, config: Config, composer: Composer,
             now: datetime) -> "Context":
        return cls(config, Stores.of(session), Outbox(session, config, composer, now), now)
