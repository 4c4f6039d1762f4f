"""One-click unsubscribe (RFC 8058), what the web endpoint asks of the lists.

A GET only shows a page with one button: link scanners and mail previews follow GETs,
and must never end a membership. The POST (the button, or the mail program's one-click
`List-Unsubscribe=One-Click`) makes the member leave exactly as a confirmed `leave`
does, goodbye message included; a second POST finds them gone and changes nothing. A
token that is not signed by this server gets a 400 page and changes nothing.
"""

from dataclasses import dataclass

from mailbot.config import ListConfig
from mailbot.core.signed import read_member_token
from mailbot.lists.membership import leave
from mailbot.outbound.context import Context


@dataclass(frozen=True)
class Page:
    """What the endpoint answers: an HTTP status, a title, plain text, and the button's
    label when the page offers to unsubscribe."""

    status: int
    language: str
    title: str
    text: str
    button: str = ""


def show(ctx: Context, token: str) -> Page:
    """GET: the one-button page (or "already done"); never changes anything."""
    found = _member_of(ctx, token)
    if found is None:
        return _invalid(ctx)
    mlist, email = found
    member = ctx.stores.members.get(mlist.name, email)
    language = (member.language if member else None) or mlist.language
    if member is None:
        return _page(ctx, mlist, "web/unsubscribe-done", language, email, already=True)
    button = ctx.outbox.fragment("web/_unsubscribe-button", language, {}).strip()
    return _page(ctx, mlist, "web/unsubscribe-ask", language, email, button=button)


def one_click(ctx: Context, token: str) -> Page:
    """POST: the member leaves (once); the page says so."""
    found = _member_of(ctx, token)
    if found is None:
        return _invalid(ctx)
    mlist, email = found
    member = ctx.stores.members.get(mlist.name, email)
    language = (member.language if member else None) or mlist.language
    left = leave(ctx, mlist, email, language, None)
    return _page(ctx, mlist, "web/unsubscribe-done", language, email, already=not left)


def _member_of(ctx: Context, token: str) -> tuple[ListConfig, str] | None:
    http = ctx.config.http
    read = read_member_token(http.secret, token) if http is not None else None
    if read is None:
        return None
    list_name, email = read
    try:
        return ctx.config.get_list(list_name), email
    except KeyError:  # signed by us for a list since removed from the config
        return None


def _page(ctx: Context, mlist: ListConfig, template: str, language: str, email: str, *,
          already: bool = False, button: str = "") -> Page:
    values = {"list": ctx.outbox.list_vars(mlist), "email": email, "already": already}
    title, text = ctx.outbox.composer.render(template, language, values)
    return Page(200, language, title, text, button)


def _invalid(ctx: Context) -> Page:
    language = ctx.config.server.language
    requests = [ctx.outbox.address(m, "request") for m in ctx.config.lists]
    title, text = ctx.outbox.composer.render("web/unsubscribe-invalid", language,
                                             {"requests": requests})
    return Page(400, language, title, text)
