"""What a list says about itself in every message it sends: RFC 2919 List-Id, the RFC 2369
List-* headers, RFC 8058 one-click unsubscribe, Precedence. Pure."""

from dataclasses import dataclass

from mailbot.config import ListConfig
from mailbot.reading.text import one_line


@dataclass(frozen=True)
class ListHeaders:
    """What a list says about itself in every copy it sends."""

    title: str
    list_id: str
    post: str
    request: str
    unsubscribe_url: str | None
    prefix: str


def list_headers_of(mlist: ListConfig, request: str) -> ListHeaders:
    """The headers of `mlist`, whose request address is `request`."""
    return ListHeaders(
        title=mlist.title, list_id=mlist.list_id, post=mlist.address, request=request,
        unsubscribe_url=mlist.unsubscribe_url,
        prefix=mlist.rules.posting.subject_prefix.format(list=mlist.name),
    )


def list_headers(lst: ListHeaders) -> list[tuple[str, str]]:
    """RFC 2919 List-Id and RFC 2369 List-* headers (List-Archive by mail), plus RFC 8058
    one-click when set."""
    unsubscribe = f"<mailto:{lst.request}?subject=unsubscribe>"
    headers = [
        ("List-Id", f"{one_line(lst.title)} <{lst.list_id}>"),
        ("List-Post", f"<mailto:{lst.post}>"),
        ("List-Help", f"<mailto:{lst.request}?subject=help>"),
        ("List-Subscribe", f"<mailto:{lst.request}?subject=subscribe>"),
        # the archive is reached by mail too: `index` lists the posts, `get N` sends one
        ("List-Archive", f"<mailto:{lst.request}?subject=index>"),
    ]
    if lst.unsubscribe_url:
        headers.append(("List-Unsubscribe", f"<{lst.unsubscribe_url}>, {unsubscribe}"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    else:
        headers.append(("List-Unsubscribe", unsubscribe))
    headers.append(("Precedence", "list"))
    return headers
