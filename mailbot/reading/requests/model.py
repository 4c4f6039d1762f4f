"""What the request reader takes and gives: the message as said (`Said`), what the list
knows (`Known`: roster, open proposals, active items, given as data), and the `Request`s
read, with their arguments resolved. Pure data, no behaviour beyond JSON; the one
exception is a `Roster` the caller may give, read from its database only when a name is
looked for.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, overload

ROLES = ("request", "post", "confirm")
T = TypeVar("T")
Value = str | int | tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """A member of the list, as the roster gives them."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class OpenProposal:
    number: int
    title: str
    proposer: str = ""  # the proposer's address


@dataclass(frozen=True)
class OpenItem:
    """An offer or request still visible (or expired, for `renew`)."""

    number: int
    kind: str  # "offer" or "request"
    title: str
    author: str = ""  # the author's address
    text: str = ""  # its text and category, to be found by its words
    active: bool = True


class Later(Sequence[T]):
    """What the list knows, read (`load`) the first time it is looked at: most messages
    never name a proposal, an item or a person."""

    def __init__(self, load: Callable[[], Iterable[T]]) -> None:
        self._load = load
        self._loaded: tuple[T, ...] | None = None

    def _all(self) -> tuple[T, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[T]:
        return iter(self._all())


class Roster(Later[Person]):
    """Everyone on a list, read the first time someone is looked for by name. Most
    messages name nobody: they only ask whether their sender is a member (`has`) and
    whether the list has anyone (`nonempty`), two point reads instead of the whole list
    (150 ms a message for 50,000 members on SQLite)."""

    def __init__(self, load: Callable[[], Iterable[Person]], has: Callable[[str], bool],
                 nonempty: Callable[[], bool]) -> None:
        super().__init__(load)
        self.has, self._nonempty = has, nonempty

    def __bool__(self) -> bool:
        return bool(self._loaded) if self._loaded is not None else self._nonempty()


@dataclass(frozen=True)
class Known:
    """What the list knows, read from its database by the caller (explain, the daemon)."""

    roster: Sequence[Person] = ()
    proposals: Sequence[OpenProposal] = ()
    items: Sequence[OpenItem] = ()
    moderators: tuple[str, ...] = ()
    points_per_hour: int = 60
    unit: str = "points"
    list_addresses: tuple[str, ...] = ()  # never a member's address (join for someone)

    def is_member(self, email: str) -> bool:
        if isinstance(self.roster, Roster):
            return self.roster.has(email)
        return any(p.email.lower() == email.lower() for p in self.roster)


@dataclass(frozen=True)
class Said:
    """One message as the reader needs it.

    `text` is the whole readable text (quotes included: the bot's own mail quoted under a
    reply tells which proposal, item or held post it is about); `role` is the role of the
    address it was sent to; `thread_proposal` the number of the proposal whose thread its
    In-Reply-To/References point into, when the caller found one."""

    subject: str
    text: str
    role: str = "request"
    sender: str = ""
    sender_name: str = ""
    thread_proposal: int | None = None
    list_prefix: str = ""  # the list's subject prefix, "[sel]"


@dataclass(frozen=True)
class Request:
    """One thing the writer asks. `args` use the names of shared/eval/README.md (`who`,
    `points`, `proposal`, `item`, `mode`, `language`, and `memo`, `duration`, `title`,
    `reason`, `hold`, `intent`, `candidates`… for people); `ask` is the question to send
    back when `action` is "unclear"; `words` are a typed command's words after its verb."""

    action: str
    args: dict[str, Value] = field(default_factory=dict)
    ask: str = ""
    words: tuple[str, ...] = ()
    language: str = ""  # the language the writer used: "fr", "en" or "" unknown
    line: str = ""  # the line or sentence it was read from

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"action": self.action, "args": list(self.words)}
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.args.items()})
        if self.ask:
            out["ask"] = self.ask
        return out
