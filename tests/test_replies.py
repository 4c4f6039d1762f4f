"""A reply's own text, from every client members use: mailbot.reading.replies (pure)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.reading import reply_lines as kind
from mailbot.reading.replies import first_line, own_text

# (client, the body as received, the writer's own text exactly)
REPLIES = [
    ("gmail-en",
     "Sounds good, see you Thursday.\n\n"
     "On Mon, Nov 3, 2025 at 10:00 AM Marie Dupont <marie@example.org> wrote:\n\n"
     "> Meeting on Thursday?\n> Marie\n",
     "Sounds good, see you Thursday."),
    ("gmail-fr",
     "D'accord pour jeudi.\n\n"
     "Le lun. 3 nov. 2025 à 10:00, Marie Dupont <marie@example.org> a écrit :\n\n"
     "> Réunion jeudi ?\n",
     "D'accord pour jeudi."),
    ("gmail-fr-nbsp-before-colon",
     "Je prends le pain.\n\n"
     "Le lun. 3 nov. 2025 à 10:00, Marie <marie@example.org> a écrit\u00a0:\n"
     "> Qui apporte quoi ?\n",
     "Je prends le pain."),
    ("gmail-en-attribution-split-over-two-lines",
     "Yes, count me in.\n\n"
     "On Mon, Nov 3, 2025 at 10:00 AM Marie Dupont <marie.dupont@example.org>\nwrote:\n\n"
     "> Who is coming?\n",
     "Yes, count me in."),
    ("gmail-en-split-inside-the-address",
     "Yes.\n\nOn Mon, Nov 3, 2025 at 10:00 AM Marie Dupont <\nmarie@example.org> wrote:\n> x\n",
     "Yes."),
    ("gmail-fr-split-before-a-ecrit",
     "Oui, je serai là.\n\n"
     "Le lun. 3 nov. 2025 à 10:00, Marie Dupont <marie.dupont@example.org>\na écrit :\n\n"
     "> Qui vient ?\n",
     "Oui, je serai là."),
    ("outlook-en-header-block",
     "Fine by me.\n\nFrom: Marie Dupont <marie@example.org>\n"
     "Sent: Monday, November 3, 2025 10:00 AM\nTo: sel@example.org\nSubject: Meeting\n\n"
     "Meeting on Thursday?\n",
     "Fine by me."),
    ("outlook-fr-header-block",
     "Ça me va.\n\nDe : Marie Dupont <marie@example.org>\n"
     "Envoyé : lundi 3 novembre 2025 10:00\nÀ : sel@example.org\nObjet : Réunion\n\n"
     "Réunion jeudi ?\n",
     "Ça me va."),
    ("outlook-fr-with-rule-above-header-block",
     "Très bien, merci.\n\n________________________________\n"
     "De : Marie Dupont <marie@example.org>\nEnvoyé : lundi 3 novembre 2025 10:00\n"
     "À : sel@example.org\nObjet : Réunion\n",
     "Très bien, merci."),
    ("outlook-html-to-text-bold-headers",
     "Noted.\n\n*From:* Marie <m@x.org>\n*Sent:* Monday, November 3, 2025 10:00\n*To:* sel\n",
     "Noted."),
    ("outlook-original-message",
     "Agreed.\n\n-----Original Message-----\nFrom: Marie\nSent: Monday\n\nQuestion?\n",
     "Agreed."),
    ("outlook-fr-message-d-origine",
     "D'accord.\n\n-----Message d'origine-----\nDe : Marie\nEnvoyé : lundi\n",
     "D'accord."),
    ("apple-mail-attribution-quoted",
     "Yes please.\n\n> On 3 Nov 2025, at 10:00, Marie <m@x.org> wrote:\n> \n> Who wants soup?\n",
     "Yes please."),
    ("apple-mail-attribution",
     "Yes please.\n\nOn 3 Nov 2025, at 10:00, Marie <m@x.org> wrote:\n\n> Who wants soup?\n",
     "Yes please."),
    ("apple-mail-fr",
     "Avec plaisir.\n\n> Le 3 nov. 2025 à 10:00, Marie <m@x.org> a écrit :\n> \n> Soupe ?\n",
     "Avec plaisir."),
    ("thunderbird-fr",
     "Je viendrai.\n\nLe 03/11/2025 à 10:00, Marie a écrit :\n> Qui vient ?\n",
     "Je viendrai."),
    ("thunderbird-en",
     "I'll come.\n\nOn 03/11/2025 10:00, Marie wrote:\n> Who comes?\n",
     "I'll come."),
    ("iphone-fr",
     "Merci !\n\nEnvoyé de mon iPhone\n\n> Le 3 nov. 2025 à 10:00, Marie <m@x.org> a écrit :\n",
     "Merci !"),
    ("iphone-en",
     "Thanks!\n\nSent from my iPhone\n\n> On 3 Nov 2025, at 10:00, Marie <m@x.org> wrote:\n",
     "Thanks!"),
    ("outlook-android",
     "See you there\n\nGet Outlook for Android\n________________________________\nFrom: Marie\n",
     "See you there"),
    ("samsung-fr",
     "OK\n\nEnvoyé depuis mon smartphone Samsung Galaxy.\n",
     "OK"),
    ("signature",
     "Bonne idée.\n\n-- \nMarie Dupont\nSEL de Saint-Martin\n06 00 00 00 00\n",
     "Bonne idée."),
    ("signature-dashes-without-space",
     "Je suis d'accord\n--\nMarie",
     "Je suis d'accord"),
    ("interleaved-answers",
     "> Question 1?\nAnswer 1.\n> Question 2?\nAnswer 2.\n",
     "Answer 1.\nAnswer 2."),
    ("indented-quote",
     "  > indented quoted line\nmy own line\n",
     "my own line"),
    ("crlf-gmail",
     "Yes.\r\n\r\nOn Mon, Nov 3, 2025 at 10:00 AM Marie <m@x.org> wrote:\r\n> q\r\n",
     "Yes."),
    ("crlf-outlook-fr",
     "Oui\r\n\r\nDe : Marie\r\nEnvoyé : lundi\r\nÀ : sel\r\nObjet : x\r\n\r\nx\r\n",
     "Oui"),
    ("old-mac-cr-only", "Yes.\rNo.\r", "Yes.\nNo."),
    ("forwarded",
     "FYI\n\n---------- Forwarded message ---------\nFrom: Bob\nDate: Mon\n",
     "FYI"),
    ("multi-paragraph-own-text-kept-whole",
     "Bonjour à tous,\n\nJe propose une sortie samedi.\nQui est partant ?\n\nMarie\n",
     "Bonjour à tous,\n\nJe propose une sortie samedi.\nQui est partant ?\n\nMarie"),
    ("objection-first-line",
     "OBJECTION\nJe pense que c'est trop cher.\n\n"
     "Le mar. 4 nov. 2025 à 09:12, Bob <bob@example.net> a écrit :\n> [PROPOSITION] Acheter\n",
     "OBJECTION\nJe pense que c'est trop cher."),
    ("trailing-spaces-trimmed", "Hello   \nworld  \n\n\n", "Hello\nworld"),
    ("from-in-own-text-is-not-a-header-block",
     "From: the garden, tomatoes.\nSee you.\n",
     "From: the garden, tomatoes.\nSee you."),
    ("de-in-own-text-is-not-a-header-block",
     "De : Paris à Lyon, le train est cher.\nMerci.\n",
     "De : Paris à Lyon, le train est cher.\nMerci."),
    ("empty", "", ""),
    ("blank-lines-only", "\n\n   \n\r\n", ""),
    ("only-quoted", "> all quoted\n> text\n", ""),
    ("only-attribution-and-quote",
     "On Mon, Nov 3, 2025 at 10:00 AM Marie <m@x.org> wrote:\n> hi\n", ""),
]


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=c) for c, b, e in REPLIES])
def test_own_text(body: str, expected: str) -> None:
    assert own_text(body) == expected


def test_the_table_is_large_enough() -> None:
    assert len(REPLIES) >= 25


def test_gmail_french_attribution_wrapped_inside_a_ecrit() -> None:
    body = ("Oui.\n\nLe lun. 3 nov. 2025 à 10:00, Marie Dupont <marie.dupont@example.org> a\n"
            "écrit :\n\n> Qui vient ?\n")
    assert own_text(body) == "Oui."


def test_french_outlook_mobile_footer() -> None:
    assert own_text("OK, j'arrive.\n\nObtenir Outlook pour Android\n") == "OK, j'arrive."


@pytest.mark.parametrize(("body", "expected"), [
    ("OBJECTION\nJe pense que c'est trop cher.\n", "OBJECTION"),
    ("\n\n  +1  \nbonne idée\n", "+1"),
    ("> quoted first\n\nd'accord\n", "d'accord"),
    ("Je m'oppose.\r\n\r\nLe 03/11/2025 à 10:00, Marie a écrit :\r\n> x\r\n", "Je m'oppose."),
    ("", ""),
    ("> only quoted\n", ""),
    ("-- \nsignature only\n", ""),
])
def test_first_line(body: str, expected: str) -> None:
    assert first_line(body) == expected


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_own_text_never_raises_and_drops_every_quoted_line(text: str) -> None:
    result = own_text(text)
    assert "\r" not in result
    assert not any(line.lstrip().startswith(">") for line in result.split("\n"))
    assert result == result.strip()


one_line = st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\r\n"),
                   max_size=30)
quoted_mail = st.lists(
    st.one_of(
        one_line,
        one_line.map(lambda s: "> " + s),
        st.sampled_from(["> join", ">> leave", " > x", "-- ", "Bonjour,", ""]),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(quoted_mail, st.sampled_from(["\n", "\r\n", "\r"]))
def test_own_text_is_the_same_whatever_the_line_endings(lines: list[str], newline: str) -> None:
    assert own_text(newline.join(lines)) == own_text("\n".join(lines))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_first_line_is_a_line_of_own_text(text: str) -> None:
    line = first_line(text)
    own = own_text(text)
    assert line == line.strip()
    assert (line == "") == (own.strip() == "")
    assert line in own


header_pieces = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(["wrote:", "a écrit :", "Marie a -", "écrit", "---- On Mon", "wrote ----",
                         "Le 3 nov. 2025 à 10:00,", "marie@example.org", "De :", "--", " - ",
                         ":", "> quoted", "", "schrieb", "Am 20.06.24 um 16:20",
                         "On 3 Nov 2025, Marie <m@x.org> has -", "written"]),
    ),
    max_size=10,
)


@settings(max_examples=500, deadline=None)
@given(header_pieces)
def test_a_text_said_to_hold_no_quote_header_has_none_at_any_line(lines: list[str]) -> None:
    """`may_hold_attribution` lets own_text skip looking for a quote header line by line:
    when it says none can be there, none is found at any line."""
    flats = [kind.plain(line) for line in lines]
    if not kind.may_hold_attribution(flats):
        assert all(kind.attribution_span(lines, flats, i) == 0 for i in range(len(lines)))


def test_a_quote_header_wrapped_over_a_dashed_line_is_still_looked_for() -> None:
    """`_span` drops a line's trailing " -" before it joins the next: a header wrapped
    there, its colon forgotten, is still one, and the look at the whole text sees it."""
    lines = ["Yes.", "", "On 3 Nov 2025, Marie <m@x.org> has -", "written", "> Meeting?"]
    flats = [kind.plain(line) for line in lines]
    assert kind.may_hold_attribution(flats)
    assert kind.attribution_span(lines, flats, 2) == 2
    assert own_text("\n".join(lines)) == "Yes."


def test_the_invisible_marks_are_all_outside_ascii() -> None:
    """`reply_lines.plain` leaves an ASCII line untranslated: no mark it removes is ASCII."""
    assert kind._INVISIBLE and all(code > 127 for code in kind._INVISIBLE)
    assert kind.plain("\u200bBonjour\ufeff") == kind.plain("Bonjour") == "bonjour"
