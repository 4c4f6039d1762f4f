"""Posts read ahead: what the request reader makes of a post (a `Reading`), worked out by
a worker process before its turn at SQLite's one writer, while another worker holds it.

With `server.workers` of two or more on SQLite, the worker processes take turns at the one
writer, and reading a post (its own text, its sentences, what it may ask) is half of
handling it. So each worker takes a share of the messages (`Service.take_share`: the ids
equal to its number modulo their count), reads its next posts outside any write
transaction (parsed, and read by the request reader), then handles them in its turn with
what it read: one worker reads while the other writes. The message is used only for the
same bytes, the reading only if the post, as said in the turn, is the same
(`reading/ahead.py`, `read_requests`); one that is missing or stale is simply parsed and
read again in the turn.
"""

import logging

from mailbot.config import Config
from mailbot.handling.known import said_of, thread_proposal
from mailbot.reading.ahead import PostAhead
from mailbot.reading.message import automatic_kind, parse
from mailbot.reading.requests import read_ahead
from mailbot.storage.stores import Stores

log = logging.getLogger(__name__)

AHEAD = 32  # posts read ahead at most (a turn handles some 10 to 30)


class PostsAhead:
    """A worker's next posts, parsed and read, by message id."""

    def __init__(self, config: Config, share: tuple[int, int]) -> None:
        self.config, self.share = config, share
        self.posts: dict[int, PostAhead] = {}
        self._through = 0  # the last id looked at: the next reading starts after it

    def read(self, stores: Stores, up_to: int) -> int:
        """Read the share's next new posts (ids up to `up_to`) until AHEAD are waiting;
        how many were read."""
        room = AHEAD - len(self.posts)
        if room <= 0:
            return 0
        read = 0
        for message_id, list_name, mail_from, raw in stores.messages.new_posts(
                self._through, up_to, self.share, room):
            self._through = message_id
            try:
                self.posts[message_id] = self._ahead(stores, list_name, mail_from, raw)
            except Exception:  # read again in the turn, where a failure is dealt with
                log.debug("message %s not read ahead", message_id, exc_info=True)
                continue
            read += 1
        return read

    def forget_before(self, message_id: int) -> None:
        """The oldest new message of the share is `message_id`: what was read ahead of
        those before it (handled some other way) is dropped, or it would take the room."""
        for old in [i for i in self.posts if i < message_id]:
            del self.posts[old]

    def _ahead(self, stores: Stores, list_name: str, mail_from: str,
               raw: bytes) -> PostAhead:
        mlist = self.config.get_list(list_name)
        msg = parse(raw)
        if automatic_kind(msg, mail_from, mlist.list_id) is not None:
            return PostAhead(raw, msg, None)  # not read in its turn either (handling/post.py)
        said = said_of(msg, "post", mlist, mail_from, thread_proposal(stores, mlist, msg))
        rules = mlist.rules.exchange
        return PostAhead(raw, msg, read_ahead(said, rules.points_per_hour, rules.unit))
