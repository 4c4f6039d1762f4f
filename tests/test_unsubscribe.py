"""RFC 8058 one-click unsubscribe over real SMTP and real HTTP, on SQLite and PostgreSQL:
each member's copy carries a link of its own; GET shows a page and never unsubscribes;
POST unsubscribes once, as `leave` does; a forged token changes nothing."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from mailbot.config import Config, load_config
from mailbot.core.errors import ConfigError
from mailbot.core.signed import member_token, read_member_token
from mailbot.service import Service
from tests.e2e import Driver
from tests.helpers import Sink, make_message, write_config

SECRET = "a-long-random-secret-for-tests-0123456789"
HTTP = f"""
[http]
listen = "127.0.0.1:0"
base_url = "https://lists.example.org/"
secret = "{SECRET}"
"""


@pytest.fixture
def verp() -> bool:
    return True


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, rules: str, verp: bool) -> Config:
    return load_config(write_config(tmp_path, database_url, sink_port=sink.port, rules=rules,
                                    extra_list=HTTP,
                                    outbound_extra="" if verp else "verp = false"))


@pytest.fixture
async def web(service: Service, bot: Driver) -> AsyncIterator[tuple[Driver, str]]:
    """The driver, and the base of the endpoint actually listening."""
    async with service.listening() as ports:
        yield bot, f"http://127.0.0.1:{ports['http']}"


async def _post(bot: Driver, sender: str = "marie@example.com") -> None:
    bot.sink.clear()
    raw = make_message(sender=sender, subject="Réunion", body="Jeudi 18h.\n")
    assert await bot.send(raw, mail_from=sender) == 250


def _link(bot: Driver, rcpt: str) -> str:
    [copy] = [r for r in bot.sink.to(rcpt) if r.message["List-Id"]]
    found = re.match(r"<https://lists\.example\.org(/unsubscribe/[^>]+)>",
                     str(copy.message["List-Unsubscribe"]))
    assert found, copy.message["List-Unsubscribe"]
    return found.group(1)


async def _http(method: str, url: str, body: str | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    async with aiohttp.ClientSession() as session, session.request(
            method, url, data=body, headers=headers) as response:
        return response.status, await response.text()


async def test_each_member_copy_carries_its_own_signed_link(web: tuple[Driver, str]) -> None:
    bot, _ = web
    await _post(bot)
    tokens = {}
    for rcpt in ("marie@example.com", "bob@example.net"):
        [copy] = [r for r in bot.sink.to(rcpt) if r.message["List-Id"]]
        value = str(copy.message["List-Unsubscribe"])
        assert value.endswith("<mailto:sel-request@example.org?subject=unsubscribe>")
        assert copy.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert len(copy.message.get_all("List-Unsubscribe")) == 1
        tokens[rcpt] = _link(bot, rcpt).rsplit("/", 1)[1]
        assert read_member_token(SECRET.encode(), tokens[rcpt]) == ("sel", rcpt)
        assert "Jeudi 18h." in copy.text()  # the body is untouched
    assert tokens["marie@example.com"] != tokens["bob@example.net"]


async def test_get_shows_one_button_in_the_member_language_and_never_unsubscribes(
        web: tuple[Driver, str]) -> None:
    bot, base = web
    await bot.command("langue anglais", sender="bob@example.net", name="Bob")
    await _post(bot)
    link = _link(bot, "bob@example.net")
    bot.sink.clear()
    for _ in range(3):  # a link scanner, a preview, the member: nobody leaves
        status, page = await _http("GET", base + link)
        assert status == 200
        assert '<form method="post">' in page and "Leave the list</button>" in page
        assert 'name="List-Unsubscribe" value="One-Click"' in page
        assert "bob@example.net" in page and 'lang="en"' in page
    await bot.service.drain()
    assert await bot.member("bob@example.net") is not None
    assert bot.sink.received == []


async def test_one_click_post_unsubscribes_once_like_leave(web: tuple[Driver, str]) -> None:
    bot, base = web
    await _post(bot)
    link = _link(bot, "marie@example.com")
    bot.sink.clear()
    status, page = await _http("POST", base + link, "List-Unsubscribe=One-Click")
    assert status == 200 and "marie@example.com" in page and "ne fait plus partie" in page
    await bot.service.drain()
    assert await bot.member("marie@example.com") is None
    assert await bot.member("bob@example.net") is not None
    [goodbye] = bot.sink.to("marie@example.com")
    assert goodbye.message["Subject"].startswith("Vous avez quitté")

    bot.sink.clear()  # a second POST (the mail program retries): nothing more happens
    status, page = await _http("POST", base + link, "List-Unsubscribe=One-Click")
    assert status == 200 and "déjà plus partie" in page
    status, page = await _http("GET", base + link)
    assert status == 200 and "<form" not in page
    await bot.service.drain()
    assert bot.sink.received == []
    await _post(bot, "bob@example.net")  # and she gets the list no more
    assert bot.sink.to("marie@example.com") == [] and bot.sink.to("bob@example.net")


@pytest.mark.parametrize("forge", ["other-member", "bad-signature", "garbage", "other-secret"])
async def test_a_forged_token_gets_a_4xx_page_and_changes_nothing(
        web: tuple[Driver, str], forge: str) -> None:
    bot, base = web
    await _post(bot)
    bob = _link(bot, "bob@example.net").rsplit("/", 1)[1]
    marie = member_token(SECRET.encode(), "sel", "marie@example.com")
    token = {"other-member": f"{marie.split('.')[0]}.{bob.split('.')[1]}",
             "bad-signature": bob[:-2] + ("AA" if not bob.endswith("AA") else "BB"),
             "garbage": "not-a-token",
             "other-secret": member_token(b"another secret of sixteen+", "sel",
                                          "bob@example.net")}[forge]
    bot.sink.clear()
    for method, body in (("GET", None), ("POST", "List-Unsubscribe=One-Click")):
        status, page = await _http(method, f"{base}/unsubscribe/{token}", body)
        assert status == 400, (method, page)
        assert "pas valable" in page and "sel-request@example.org" in page and "<form" not in page
    await bot.service.drain()
    assert await bot.member("bob@example.net") is not None
    assert await bot.member("marie@example.com") is not None
    assert bot.sink.received == []


async def test_a_post_without_the_one_click_body_changes_nothing(
        web: tuple[Driver, str]) -> None:
    bot, base = web
    await _post(bot)
    link = _link(bot, "bob@example.net")
    for body in ("", "List-Unsubscribe=Maybe"):
        status, _ = await _http("POST", base + link, body)
        assert status == 400
    await bot.service.drain()
    assert await bot.member("bob@example.net") is not None


@pytest.mark.parametrize("verp", [False])
async def test_shared_copies_without_verp_keep_the_mailto_only(
        web: tuple[Driver, str]) -> None:
    bot, _ = web
    await _post(bot)
    copies = [r for r in bot.sink.received if r.message["List-Id"]]
    assert len(copies) == 2
    for copy in copies:
        assert copy.message["List-Unsubscribe"] == \
            "<mailto:sel-request@example.org?subject=unsubscribe>"
        assert copy.message["List-Unsubscribe-Post"] is None
        assert copy.mail_from == "sel-bounces@example.org"


def test_the_http_section_needs_a_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    path = write_config(tmp_path, url, sink_port=25,
                        extra_list='[http]\nbase_url = "https://x.example"\n')
    with pytest.raises(ConfigError, match="secret"):
        load_config(path)
    (tmp_path / "key").write_text(SECRET + "\n")
    path = write_config(tmp_path, url, sink_port=25, extra_list=(
        '[http]\nlisten = "127.0.0.1:8080"\nbase_url = "https://x.example/"\n'
        'secret_file = "key"\n'))
    http = load_config(path).http
    assert http is not None and http.secret == SECRET.encode()
    assert http.base_url == "https://x.example" and http.listen.port == 8080
