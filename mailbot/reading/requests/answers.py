"""A reply to a question the bot asked back: it carries the question's request on.

The bot asked "which Marie?" or "how much?" about a payment; the answer ("Marie Dubois",
"1h30") fills what was missing. An answer that is a whole request of its own ("non,
laissez tomber, mon solde") is read as that request. Pure.
"""

from mailbot.reading.amounts import find_amounts
from mailbot.reading.replies import own_text
from mailbot.reading.requests.model import Known, Request, Said
from mailbot.reading.requests.names import who_is
from mailbot.reading.requests.resolve import read_requests

_SETTLED = ("unclear", "help")


def carry_on(question: Request, said: Said, known: Known) -> list[Request]:
    """The requests a reply to `question` (an "unclear" request) makes."""
    fresh = read_requests(said, known)
    if fresh and fresh[0].action not in _SETTLED:
        return fresh
    if question.args.get("intent") == "pay":
        paid = _payment(question, own_text(said.text), known)
        if paid is not None:
            return [paid]
    return fresh


def _payment(question: Request, answer: str, known: Known) -> Request | None:
    args = dict(question.args)
    candidates = args.get("candidates")
    if "who" not in args:
        pool = [p for p in known.roster if isinstance(candidates, tuple)
                and p.email in candidates] or list(known.roster)
        found = who_is(answer, pool) or who_is(" ".join(answer.split()[:4]), pool)
        if len(found) == 1:
            args["who"] = found[0].email
    if "points" not in args:
        amounts = find_amounts(answer, known.points_per_hour, known.unit)
        if len(amounts) == 1:
            args["points"] = amounts[0].points
    if "who" not in args or "points" not in args:
        return None
    kept = {k: v for k, v in args.items() if k in ("who", "points", "memo")}
    return Request("pay", kept, language=question.language, line=question.line)


def request_of(payload: dict[str, object]) -> Request:
    """A question stored as JSON (`Request.as_json` plus its language and line) read back."""
    args = {k: tuple(str(x) for x in v) if isinstance(v, list) else v
            for k, v in payload.items()
            if k not in ("action", "args", "ask", "language", "line")
            and isinstance(v, (str, int, list))}
    words = payload.get("args")
    return Request(str(payload.get("action", "unclear")), args,
                   ask=str(payload.get("ask", "")),
                   words=tuple(str(w) for w in words) if isinstance(words, list) else (),
                   language=str(payload.get("language", "")),
                   line=str(payload.get("line", "")))


__all__ = ["carry_on", "request_of"]
