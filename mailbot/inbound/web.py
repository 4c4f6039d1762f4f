"""The small HTTP endpoint of one-click unsubscribe (RFC 8058), served by `mailbot serve`
when the config has an `[http]` section. aiohttp: a well-kept asyncio HTTP server, on the
same event loop as the SMTP listener.

    GET  /unsubscribe/TOKEN   a plain page with one button; changes nothing
    POST /unsubscribe/TOKEN   body List-Unsubscribe=One-Click: the member leaves

What a token means, and what leaving does, is the lists' business (handling/unsubscribe):
this module only speaks HTTP and writes the page, in the member's language.
"""

import contextlib
import html
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from mailbot.config import HostPort

log = logging.getLogger(__name__)

ONE_CLICK = "One-Click"
MAX_BODY = 4096  # a one-click body is 26 bytes; a form adds nothing much


@dataclass(frozen=True)
class Answer:
    status: int
    language: str
    title: str
    text: str
    button: str = ""  # the form's button, when the page offers to unsubscribe


Show = Callable[[str], Awaitable[Answer]]


@dataclass(frozen=True)
class Endpoint:
    show: Show  # GET: what the page says for this token
    unsubscribe: Show  # POST: do it, and say so


def make_app(endpoint: Endpoint) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)

    async def get(request: web.Request) -> web.Response:
        answer = await endpoint.show(request.match_info["token"])
        return _html(answer)

    async def post(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("List-Unsubscribe") != ONE_CLICK:
            return web.Response(status=400, text="expected List-Unsubscribe=One-Click\n")
        answer = await endpoint.unsubscribe(request.match_info["token"])
        log.info("one-click unsubscribe: %s", answer.title)
        return _html(answer)

    app.router.add_get("/unsubscribe/{token}", get)
    app.router.add_post("/unsubscribe/{token}", post)
    return app


def _html(answer: Answer) -> web.Response:
    """A page with no script, no style sheet, no image: text and, maybe, one button."""
    paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>\n"
                         for p in answer.text.split("\n\n") if p.strip())
    form = (f'<form method="post"><input type="hidden" name="List-Unsubscribe" '
            f'value="{ONE_CLICK}"><button type="submit">{html.escape(answer.button)}</button>'
            f"</form>\n") if answer.button else ""
    body = (f'<!DOCTYPE html>\n<html lang="{answer.language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width">'
            f'<meta name="referrer" content="no-referrer">'
            f"<title>{html.escape(answer.title)}</title></head>\n<body>\n"
            f"<h1>{html.escape(answer.title)}</h1>\n{paragraphs}{form}</body></html>\n")
    return web.Response(status=answer.status, text=body, content_type="text/html",
                        charset="utf-8", headers={"Cache-Control": "no-store"})


@contextlib.asynccontextmanager
async def serving(endpoint: Endpoint, where: HostPort) -> AsyncIterator[int]:
    """Listen on `where`; yields the port it got."""
    runner = web.AppRunner(make_app(endpoint), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, where.host, where.port)
        await site.start()
        port = int(runner.addresses[0][1])
        log.info("HTTP (one-click unsubscribe) listening on %s:%d", where.host, port)
        yield port
    finally:
        await runner.cleanup()
