"""Fast, exact tests of the pure decision modules: reading replies and subjects
(mailbot.reading.proposals), a proposal's life (mailbot.decisions.lifecycle) and deadlines
as people read them (mailbot.outbound.dates)."""

import base64
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.decisions.lifecycle import (
    ADOPTED,
    CONTESTED,
    LATE_AFTER,
    OPEN,
    SUPERSEDED,
    WITHDRAWN,
    Outcome,
    deadline_for,
    extended,
    reminder_due,
    settle,
)
from mailbot.outbound.dates import format_date, format_when
from mailbot.reading.message import parse, readable_text
from mailbot.reading.proposals import _fold_keep_length, proposal_title, referenced_number
from mailbot.reading.replies import stance
from mailbot.reading.text import fold

STANCES = ("objection", "support", "withdraw", "comment")

# ---------------------------------------------------------------------------------------------
# Quoted parts of replies, as the common clients write them. Each quotes words of the
# opposite stances, so a reader that looked past the writer's own text would get it wrong.

GMAIL_FR = ("\n\nLe lun. 3 nov. 2025 à 10:00, Marie Dupont <marie@example.org> a écrit :\n\n"
            "> [PROPOSITION] Acheter une tondeuse pour le jardin partagé\n> +1\n> OBJECTION\n")
GMAIL_EN = ("\n\nOn Mon, Nov 3, 2025 at 10:00 AM Marie Dupont <marie@example.org> wrote:\n\n"
            "> [PROPOSAL] Buy a mower for the shared garden\n> I agree\n> -1\n")
GMAIL_EN_SPLIT = ("\n\nOn Mon, Nov 3, 2025 at 10:00 AM Marie Dupont <marie.dupont@example.org>\n"
                  "wrote:\n\n> d'accord\n> veto\n")
OUTLOOK_FR = ("\n\n________________________________\nDe : Marie Dupont <marie@example.org>\n"
              "Envoyé : lundi 3 novembre 2025 10:00\nÀ : sel@example.org\n"
              "Objet : [sel] [PROPOSITION] Achat d'une tondeuse\n\n"
              "Je suis d'accord\nObjection\n")
OUTLOOK_EN = ("\n\nFrom: Marie Dupont <marie@example.org>\n"
              "Sent: Monday, November 3, 2025 10:00 AM\nTo: sel@example.org\n"
              "Subject: [sel] [PROPOSAL] Buy a mower\n\nagree\nblock\n")
ORIGINAL_MESSAGE = ("\n\n-----Original Message-----\nFrom: Marie\nSent: Monday\n\n"
                    "+1\nI object\n")
MESSAGE_D_ORIGINE = ("\n\n-----Message d'origine-----\nDe : Marie\nEnvoyé : lundi\n\n"
                     "d'accord\nje bloque\n")
APPLE_FR = ("\n\n> Le 3 nov. 2025 à 10:00, Marie <m@x.org> a écrit :\n> \n"
            "> D’accord !\n> Je m’oppose\n")
APPLE_EN = ("\n\nOn 3 Nov 2025, at 10:00, Marie <m@x.org> wrote:\n\n> +1\n> withdraw objection\n")
THUNDERBIRD_FR = "\n\nLe 03/11/2025 à 10:00, Marie a écrit :\n> d'accord\n> -1\n"
THUNDERBIRD_EN = "\n\nOn 03/11/2025 10:00, Marie wrote:\n> agree\n> OBJECTION\n"
IPHONE_FR = ("\n\nEnvoyé de mon iPhone\n\n> Le 3 nov. 2025 à 10:00, Marie <m@x.org> a écrit :\n"
             "> +1\n> OBJECTION\n")
IPHONE_EN = ("\n\nSent from my iPhone\n\n> On 3 Nov 2025, at 10:00, Marie <m@x.org> wrote:\n"
             "> agree\n> veto\n")
SAMSUNG_FR = "\n\nEnvoyé depuis mon smartphone Samsung Galaxy.\n> d'accord\n> -1\n"
OUTLOOK_ANDROID = "\n\nGet Outlook for Android\n________________________________\nFrom: Marie\n+1\n"
SIGNATURE = "\n\n-- \nPaul Martin\nTrésorier, SEL de Saint-Martin\nOBJECTION\n"

WRAPPERS = {
    "gmail-fr": GMAIL_FR, "gmail-en": GMAIL_EN, "gmail-en-split": GMAIL_EN_SPLIT,
    "outlook-fr": OUTLOOK_FR, "outlook-en": OUTLOOK_EN, "original-message": ORIGINAL_MESSAGE,
    "message-d-origine": MESSAGE_D_ORIGINE, "apple-fr": APPLE_FR, "apple-en": APPLE_EN,
    "thunderbird-fr": THUNDERBIRD_FR, "thunderbird-en": THUNDERBIRD_EN,
    "iphone-fr": IPHONE_FR, "iphone-en": IPHONE_EN, "samsung-fr": SAMSUNG_FR,
    "outlook-android": OUTLOOK_ANDROID, "signature": SIGNATURE, "none": "",
}


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# (case, the reply's body as received, its stance)
REPLIES = [
    # Objections
    ("objection-caps-gmail-fr", "OBJECTION" + GMAIL_FR, "objection"),
    ("objection-colon-reason-signature",
     "Objection : 400 € c'est trop cher pour une tondeuse.\nOn pourrait en emprunter une."
     + SIGNATURE, "objection"),
    ("je-m-oppose-after-greeting",
     "Bonjour à tous,\n\nJe m'oppose à cet achat, la trésorerie ne le permet pas.\n\n"
     "Bonne journée,\nChloé" + GMAIL_FR, "objection"),
    ("je-m-oppose-typographic-apostrophe-apple", "Je m’oppose." + APPLE_FR, "objection"),
    ("minus-one-iphone", "-1" + IPHONE_FR, "objection"),
    ("minus-one-with-reason-gmail-en", "-1, too expensive for what it is." + GMAIL_EN,
     "objection"),
    ("veto-outlook-en-crlf", crlf("veto" + OUTLOOK_EN), "objection"),
    ("veto-accented-thunderbird", "Véto ! On en a déjà parlé en réunion." + THUNDERBIRD_FR,
     "objection"),
    ("block-original-message",
     "Block. We need to discuss this at the meeting first." + ORIGINAL_MESSAGE, "objection"),
    ("je-bloque-outlook-fr", "Je bloque, désolée." + OUTLOOK_FR, "objection"),
    ("bloque-caps-samsung", "BLOQUE" + SAMSUNG_FR, "objection"),
    ("i-object-after-hi-all",
     "Hi all,\n\nI object: the hall is booked that weekend." + GMAIL_EN_SPLIT, "objection"),
    ("bold-objection-from-html",
     "**Objection** : pas avant l'assemblée générale." + GMAIL_FR, "objection"),
    ("gmail-plain-bold-objection", "*Objection*, voir plus bas." + GMAIL_FR, "objection"),
    ("je-suis-contre-message-d-origine", "Je suis contre, c'est trop tôt." + MESSAGE_D_ORIGINE,
     "objection"),
    ("merci-then-minus-one", "Merci Marie,\n\n-1 pour moi." + THUNDERBIRD_FR, "objection"),
    ("dear-all-i-object-with-closing",
     "Dear all,\n\nI object to spending the reserve on this.\n\nBest,\nJohn" + APPLE_EN,
     "objection"),
    ("je-m-oppose-crlf-gmail-fr", crlf("Je m'oppose." + GMAIL_FR), "objection"),
    ("chere-marie-typographic", "Chère Marie,\n\nje m’oppose, mes raisons ci-dessous."
     + IPHONE_FR, "objection"),
    ("objection-caps-crlf-outlook-fr", crlf("OBJECTION\nTrop cher." + OUTLOOK_FR),
     "objection"),
    ("veto-bare-outlook-android", "Veto" + OUTLOOK_ANDROID, "objection"),
    # Support
    ("plus-one-gmail-en", "+1" + GMAIL_EN, "support"),
    ("plus-one-bang-iphone", "+1 !" + IPHONE_FR, "support"),
    ("d-accord-thunderbird", "d'accord" + THUNDERBIRD_FR, "support"),
    ("d-accord-typographic-apple", "D’accord ! Bonne idée." + APPLE_FR, "support"),
    ("je-suis-d-accord-after-bonjour",
     "Bonjour,\n\nJe suis d'accord avec Marie." + SIGNATURE, "support"),
    ("agree-original-message", "agree" + ORIGINAL_MESSAGE, "support"),
    ("i-agree-iphone-en", "I agree, let's do it." + IPHONE_EN, "support"),
    ("je-soutiens-outlook-fr", "Je soutiens la proposition à 100 %." + OUTLOOK_FR, "support"),
    ("agreed-after-hi-everyone", "Hi everyone,\nAgreed!" + THUNDERBIRD_EN, "support"),
    ("salut-plus-one-crlf", crlf("Salut,\n\n+1 pour moi" + GMAIL_FR), "support"),
    # Withdrawals of an objection
    ("withdraw-objection-gmail-en", "withdraw objection" + GMAIL_EN, "withdraw"),
    ("je-retire-mon-objection-gmail-fr",
     "Je retire mon objection, les explications de Marie me suffisent." + GMAIL_FR,
     "withdraw"),
    ("objection-retiree-iphone", "Objection retirée." + IPHONE_FR, "withdraw"),
    ("objection-withdrawn-original-message",
     "Objection withdrawn - thanks for the clarification." + ORIGINAL_MESSAGE, "withdraw"),
    ("je-leve-mon-objection-greeting-closing",
     "Bonjour,\n\nJe lève mon objection.\n\nCordialement,\nPaul" + OUTLOOK_FR, "withdraw"),
    ("i-withdraw-my-objection-outlook-en-crlf",
     crlf("I withdraw my objection." + OUTLOOK_EN), "withdraw"),
    ("bold-je-retire", "**Je retire mon objection**" + APPLE_FR, "withdraw"),
    # Comments: what is not a stance
    ("bloque-par-la-neige",
     "Bloqué par la neige, je ne viendrai pas à la réunion." + GMAIL_FR, "comment"),
    ("bloque-caps-par-la-neige", "BLOQUÉ PAR LA NEIGE, désolé." + IPHONE_FR, "comment"),
    ("moins-dix-degres", "-10 degrés ce matin, pensez à couvrir les plants !" + GMAIL_FR,
     "comment"),
    ("plus-dix-pour-la-meteo", "+10 pour la météo, par contre ;)" + THUNDERBIRD_FR, "comment"),
    ("pas-d-objection", "Pas d'objection de mon côté." + GMAIL_FR, "comment"),
    ("aucune-objection", "Aucune objection, bonne idée !" + APPLE_FR, "comment"),
    ("no-objection-en", "No objection from me." + GMAIL_EN, "comment"),
    ("je-ne-m-oppose-pas", "Je ne m'oppose pas, mais il faudra un devis." + OUTLOOK_FR,
     "comment"),
    ("question-fr", "Une question : la tondeuse est-elle électrique ?" + GMAIL_FR, "comment"),
    ("question-en", "Who will store the mower?" + GMAIL_EN, "comment"),
    ("question-after-greeting", "Bonjour,\n\nÀ quelle date ?" + APPLE_FR, "comment"),
    ("blocked-by-snow-en", "Blocked by the snow here, can't come Thursday." + IPHONE_EN,
     "comment"),
    ("thanks-sentence-is-not-a-greeting",
     "Bonjour à tous,\n\nMerci Marie pour cette proposition bien pensée.\n-1" + GMAIL_FR,
     "comment"),
    ("stance-on-a-later-line",
     "Il faudrait d'abord demander un devis.\nSinon d'accord." + THUNDERBIRD_FR, "comment"),
    ("empty", "", "comment"),
    ("blank-lines-only", "\n\n   \r\n", "comment"),
    ("only-a-quote", "> OBJECTION\n> trop cher\n", "comment"),
    ("only-attribution-and-quote",
     "Le lun. 3 nov. 2025 à 10:00, Marie <m@x.org> a écrit :\n> Je m'oppose\n", "comment"),
    ("only-mobile-footer-and-quote", IPHONE_FR.lstrip("\n"), "comment"),
    ("only-signature", "\n-- \nJean Dupont\nOBJECTION\n", "comment"),
    ("only-greeting", "Bonjour à tous," + GMAIL_FR, "comment"),
]


def test_the_reply_table_is_large_and_covers_every_stance() -> None:
    assert len(REPLIES) >= 45
    assert {expected for _, _, expected in REPLIES} == set(STANCES)
    assert len({case for case, _, _ in REPLIES}) == len(REPLIES)


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=c) for c, b, e in REPLIES])
def test_stance_of_a_reply(body: str, expected: str) -> None:
    assert stance(body) == expected


# The writer's first own line → its stance: every word of the SPEC, with the variants
# members type (case, accents, typographic apostrophe, punctuation, HTML bold).
FIRST_LINES = [
    # objection
    ("OBJECTION", "objection"),
    ("Objection", "objection"),
    ("objection", "objection"),
    ("Objection :", "objection"),
    ("Objection : trop cher", "objection"),
    ("Objection\u00a0: trop cher", "objection"),
    ("Objection, voir ci-dessous", "objection"),
    ("je m'oppose", "objection"),
    ("Je m'oppose à cette dépense", "objection"),
    ("Je m’oppose", "objection"),
    ("JE M'OPPOSE", "objection"),
    ("-1", "objection"),
    ("-1.", "objection"),
    ("-1 pour moi", "objection"),
    ("veto", "objection"),
    ("VETO.", "objection"),
    ("Véto", "objection"),
    ("VÉTO !", "objection"),
    ("block", "objection"),
    ("Block.", "objection"),
    ("je bloque", "objection"),
    ("Je bloque.", "objection"),
    ("BLOQUE", "objection"),
    ("Bloque !", "objection"),
    ("i object", "objection"),
    ("I object to this.", "objection"),
    ("**Objection**", "objection"),
    ("**Objection** : pas avant l'AG", "objection"),
    ("*veto*", "objection"),
    ("Je suis contre", "objection"),
    # support
    ("+1", "support"),
    ("+1 !", "support"),
    ("+1\u00a0!", "support"),
    ("d'accord", "support"),
    ("D'accord.", "support"),
    ("D’accord !", "support"),
    ("Je suis d'accord", "support"),
    ("Je suis d’accord avec Marie", "support"),
    ("agree", "support"),
    ("Agree!", "support"),
    ("I agree", "support"),
    ("I agree with Paul.", "support"),
    ("je soutiens", "support"),
    ("Je soutiens la proposition", "support"),
    ("**+1**", "support"),
    # withdrawal of an objection
    ("withdraw objection", "withdraw"),
    ("Withdraw my objection", "withdraw"),
    ("I withdraw my objection", "withdraw"),
    ("je retire mon objection", "withdraw"),
    ("Je retire mon objection, merci Marie", "withdraw"),
    ("Objection retirée", "withdraw"),
    ("OBJECTION RETIRÉE", "withdraw"),
    ("objection withdrawn", "withdraw"),
    ("Objection withdrawn.", "withdraw"),
    ("je lève mon objection", "withdraw"),
    ("Je lève mon objection.", "withdraw"),
    ("Retrait de mon objection", "withdraw"),
    ("Retrait de l’objection", "withdraw"),
    # comments
    ("Bloqué par la neige, je ne viendrai pas", "comment"),
    ("bloqué", "comment"),
    ("**Bloqué** par la neige", "comment"),
    ("Bloquée à la gare", "comment"),
    ("Bloqués par la grève", "comment"),
    ("Blocked by snow", "comment"),
    ("Blocking the date in my diary", "comment"),
    ("-10 degrés ce matin", "comment"),
    ("-12°C cette nuit", "comment"),
    ("+10 pour la météo", "comment"),
    ("+15 inscrits déjà", "comment"),
    ("Pas d'objection de mon côté", "comment"),
    ("Aucune objection", "comment"),
    ("No objection", "comment"),
    ("Une objection ?", "comment"),
    ("Objections welcome at the meeting", "comment"),
    ("Objectivement, c'est cher", "comment"),
    ("Je ne m'oppose pas", "comment"),
    ("I don't object", "comment"),
    ("Pas d'accord", "comment"),
    ("Not blocking", "comment"),
    ("vetoed last year already", "comment"),
    ("Contre-proposition : en mai", "comment"),
    ("Quelle date ?", "comment"),
    ("When is the meeting?", "comment"),
    ("Merci", "comment"),
    ("", "comment"),
    ("+ 1", "comment"),
    ("- 1", "comment"),
    ("👍", "comment"),
]


@pytest.mark.parametrize(("line", "expected"), FIRST_LINES)
def test_stance_of_a_first_line(line: str, expected: str) -> None:
    assert stance(line) == expected


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_stance_ignores_what_follows_the_own_text(wrapper: str) -> None:
    """Whatever client quoted the thread below, only the writer's line counts."""
    wrong = []
    for line, expected in FIRST_LINES:
        if not line:
            continue
        body = line + "\nun deuxième paragraphe, OBJECTION +1" + WRAPPERS[wrapper]
        for variant in (body, crlf(body)):
            if stance(variant) != expected:
                wrong.append((variant, stance(variant), expected))
    assert wrong == []


@pytest.mark.parametrize(("line", "expected"), [(a, b) for a, b in FIRST_LINES if a])
def test_stance_ignores_case_and_a_greeting_before(line: str, expected: str) -> None:
    assert stance(line.upper()) == expected
    assert stance(line.lower()) == expected
    assert stance("Bonjour à tous,\n\n" + line) == expected
    assert stance("> " + line + "\n\n" + "Quelle heure ?") == "comment"


# Bugs found by these tests: each expectation follows SPEC.md or the code's own docstrings.
@pytest.mark.parametrize(("body", "expected"), [
    pytest.param("_Objection_ : trop cher", "objection", id="underscore-emphasis"),
    pytest.param("_je m'oppose_", "objection", id="underscore-emphasis-je-m-oppose"),
    pytest.param("-1,5 °C ce matin, attention au verglas", "comment", id="minus-1-comma-5"),
    pytest.param("-1.5 degrees this morning, mind the ice", "comment", id="minus-1-dot-5"),
    pytest.param("Chers amis,\n\nJe m'oppose à cet achat." + GMAIL_FR, "objection",
                 id="greeting-chers-amis"),
    pytest.param("Chères et chers membres,\n\n-1", "objection", id="greeting-cheres-et-chers"),
    pytest.param("Bonjour à toutes et à tous,\n\nJe m'oppose à cet achat." + GMAIL_FR,
                 "objection", id="greeting-bonjour-a-toutes-et-a-tous"),
    pytest.param(unicodedata.normalize("NFD", "Bloqué par la neige, je ne viendrai pas"),
                 "comment", id="bloque-par-la-neige-decomposed"),
    pytest.param("Objection levée.", "withdraw", id="objection-levee"),
])
def test_stance_bugs(body: str, expected: str) -> None:
    assert stance(body) == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_stance_is_always_one_of_four_and_never_raises(text: str) -> None:
    assert stance(text) in STANCES


no_line_breaks = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Zl", "Zp", "Cs")),
    max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([a for a, _ in FIRST_LINES]), st.lists(no_line_breaks, max_size=6),
       st.sampled_from(["\n", "\r\n"]))
def test_quoted_lines_never_change_the_stance(line: str, quoted: list[str], newline: str) -> None:
    body = newline.join([line, *("> " + q for q in quoted)])
    assert stance(body) == stance(line)
    assert stance(newline.join(["> " + q for q in quoted])) == "comment"


# ---------------------------------------------------------------------------------------------
# Stances read from whole messages, as the pipeline does: parse → readable_text → stance


def raw_message(headers: str, body: bytes) -> bytes:
    top = ("From: Paul Martin <paul@example.org>\r\nTo: sel@example.org\r\n"
           "Subject: Re: [sel] [PROPOSITION] Achat d'une tondeuse\r\n"
           "Message-ID: <r1@example.org>\r\nIn-Reply-To: <p1@example.org>\r\n"
           "MIME-Version: 1.0\r\n" + headers)
    return top.encode("ascii") + b"\r\n" + body


GMAIL_HTML_QUOTE = (
    '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">Le lun. 3 nov. 2025 à '
    '10:00, Marie Dupont &lt;<a href="mailto:marie@example.org">marie@example.org</a>&gt; '
    'a écrit :<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
    '<div dir="ltr">[PROPOSITION] Acheter une tondeuse<br>OBJECTION<br>+1</div>'
    '</blockquote></div>')
APPLE_HTML_QUOTE = (
    '<div><br><blockquote type="cite"><div>Le 3 nov. 2025 à 10:00, Marie &lt;m@x.org&gt; '
    'a écrit :</div><div>D’accord !</div><div>Je m’oppose</div></blockquote></div>')
OUTLOOK_HTML_QUOTE = (
    '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr">'
    '<font face="Calibri"><b>De :</b> Marie &lt;m@x.org&gt;<br><b>Envoyé :</b> lundi 3 '
    'novembre 2025 10:00<br><b>À :</b> sel@example.org<br><b>Objet :</b> [PROPOSITION] '
    'Tondeuse</font><div>&nbsp;</div></div><div>OBJECTION</div><div>+1</div>')


def html_only(html: str) -> bytes:
    return raw_message("Content-Type: text/html; charset=UTF-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n",
                       ("<html><body>" + html + "</body></html>\r\n").encode())


def cp1252_plain(body: bytes, charset: str = "windows-1252", encoding: str = "8bit") -> bytes:
    return raw_message(f"Content-Type: text/plain; charset={charset}; format=flowed\r\n"
                       f"Content-Transfer-Encoding: {encoding}\r\n", body)


MESSAGES = [
    ("html-gmail-objection-entity",
     html_only('<div dir="ltr">Je m&rsquo;oppose, c&#39;est trop cher.</div>'
               + GMAIL_HTML_QUOTE), "objection"),
    ("html-gmail-support", html_only('<div dir="ltr">D’accord !</div>' + GMAIL_HTML_QUOTE),
     "support"),
    ("html-gmail-bold-objection",
     html_only('<div dir="ltr"><b>Objection</b> : pas avant l&#39;AG.</div>'
               + GMAIL_HTML_QUOTE), "objection"),
    ("html-gmail-greeting-then-veto",
     html_only('<div dir="ltr"><div>Bonjour à tous,</div><div><br></div><div>Véto.</div>'
               '</div>' + GMAIL_HTML_QUOTE), "objection"),
    ("html-gmail-only-quote", html_only('<div dir="ltr"><br></div>' + GMAIL_HTML_QUOTE),
     "comment"),
    ("html-apple-blockquote-minus-one", html_only("<div>-1</div>" + APPLE_HTML_QUOTE),
     "objection"),
    ("html-apple-blockquote-comment",
     html_only("<div>Bloqué par la neige, je ne viendrai pas.</div>" + APPLE_HTML_QUOTE),
     "comment"),
    ("html-outlook-withdraw",
     html_only("<div>Je retire mon objection.</div>" + OUTLOOK_HTML_QUOTE), "withdraw"),
    ("html-outlook-comment",
     html_only("<div>Qui s'occupe de l'entretien ?</div>" + OUTLOOK_HTML_QUOTE), "comment"),
    ("cp1252-8bit-typographic-apostrophe",
     cp1252_plain(b"Je m\x92oppose, c'est trop cher.\r\n\r\nDe : Marie Dupont <m@x.org>\r\n"
                  b"Envoy\xe9 : lundi 3 novembre 2025 10:00\r\n\xc0 : sel@example.org\r\n"
                  b"Objet : [PROPOSITION] Tondeuse\r\n\r\nD\x92accord\r\n"), "objection"),
    ("cp1252-quoted-printable-veto",
     cp1252_plain(b"V=E9to !\r\n\r\nLe 03/11/2025 =E0 10:00, Marie a =E9crit :\r\n"
                  b"> +1\r\n", encoding="quoted-printable"), "objection"),
    ("cp1252-d-accord-typographic",
     cp1252_plain(b"D\x92accord !\r\n\r\nEnvoy\xe9 de mon iPhone\r\n> -1\r\n"), "support"),
    ("cp1252-bloque-par-la-neige",
     cp1252_plain(b"Bloqu\xe9 par la neige, d\xe9sol\xe9.\r\n\r\n-- \r\nPaul\r\n"), "comment"),
    ("cp1252-mislabelled-as-ascii-withdraw",
     cp1252_plain(b"Je l\xe8ve mon objection.\r\n\r\n> OBJECTION\r\n", charset="us-ascii"),
     "withdraw"),
    ("cp1252-objection-retiree",
     cp1252_plain(b"Objection retir\xe9e.\r\n\r\n> OBJECTION\r\n"), "withdraw"),
    ("utf8-base64-crlf",
     raw_message("Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: base64\r\n",
                 base64.encodebytes(
                     "Je m’oppose.\r\n\r\nLe lun. 3 nov. 2025 à 10:00, Marie <m@x.org> a "
                     "écrit :\r\n> +1\r\n".encode()).replace(b"\n", b"\r\n")), "objection"),
    ("multipart-alternative-plain-bold",
     raw_message('Content-Type: multipart/alternative; boundary="b1"\r\n',
                 b"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
                 b"*Objection* : voir plus bas.\r\n\r\nLe lun. 3 nov. 2025 \xc3\xa0 10:00, "
                 b"Marie <m@x.org> a \xc3\xa9crit :\r\n> +1\r\n"
                 b"--b1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
                 b"<div><b>Objection</b> : voir plus bas.</div>\r\n--b1--\r\n"), "objection"),
    ("multipart-alternative-empty-plain-uses-html",
     raw_message('Content-Type: multipart/alternative; boundary="b2"\r\n',
                 b"--b2\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\r\n"
                 b"--b2\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
                 b"<div>+1</div><blockquote>OBJECTION</blockquote>\r\n--b2--\r\n"), "support"),
]


@pytest.mark.parametrize(("raw", "expected"), [pytest.param(r, e, id=c) for c, r, e in MESSAGES])
def test_stance_of_a_whole_message(raw: bytes, expected: str) -> None:
    assert stance(readable_text(parse(raw))) == expected


# ---------------------------------------------------------------------------------------------
# proposal_title


@pytest.mark.parametrize(("subject", "expected"), [
    ("[PROPOSAL] x", "x"),
    ("[PROPOSITION] x", "x"),
    ("[Proposition] x", "x"),
    ("[proposition] x", "x"),
    ("Proposition : x", "x"),
    ("PROPOSITION: x", "x"),
    ("Proposal: x", "x"),
    ("Proposition\u00a0: x", "x"),
    ("[propositión] x", "x"),
    ("[PRÓPOSITION] Fête d'été à l'école", "Fête d'été à l'école"),
    ("[sel] [PROPOSITION] x", "x"),
    ("[sel][PROPOSITION] x", "x"),
    ("[sel] Proposition : x", "x"),
    ("  [PROPOSITION]  x  ", "x"),
    ("[ PROPOSITION ] Achat d'une   tondeuse", "Achat d'une tondeuse"),
    ("[PROPOSITION]x", "x"),
    ("[PROPOSITION] Achat : une tondeuse à 400 €", "Achat : une tondeuse à 400 €"),
    ("[PROPOSITION] Fête de l'été — 21 juin", "Fête de l'été — 21 juin"),
    ("[PROPOSITION] Œuvre commune", "Œuvre commune"),
    ("[PROPOSITION] Re: la salle", "Re: la salle"),
    ("Re: [PROPOSITION] x", None),
    ("RE : [PROPOSITION] x", None),
    ("Re:[PROPOSITION] x", None),
    ("TR: [PROPOSITION] x", None),
    ("Fwd: [PROPOSAL] x", None),
    ("AW: [PROPOSAL] x", None),
    ("Réf. : [PROPOSITION] x", None),
    ("RE[2]: [PROPOSAL] x", None),
    ("[sel] Re: [PROPOSITION] x", None),
    ("Proposition de fête", None),
    ("Proposition — x", None),
    ("Une proposition : x", None),
    ("[autre] [PROPOSITION] x", None),
    ("[OFFRE] Cours de guitare", None),
    ("", None),
    ("   ", None),
    ("[PROPOSITION]", None),
    ("[PROPOSITION]   ", None),
    ("Proposition :", None),
    ("[sel] [PROPOSITION]", None),
])
def test_proposal_title(subject: str, expected: str | None) -> None:
    assert proposal_title(subject, prefix="[sel]") == expected


def test_proposal_title_without_a_list_prefix() -> None:
    assert proposal_title("[PROPOSITION] x") == "x"
    assert proposal_title("[sel] [PROPOSITION] x") is None


def test_proposal_title_decomposed_accent() -> None:
    assert proposal_title(unicodedata.normalize("NFD", "[propositión] x"), "[sel]") == "x"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_an_ascii_subject_is_folded_as_each_character_alone(text: str) -> None:
    """The ASCII shortcut of `_fold_keep_length` keeps what folding each character gives:
    a letter lowercased, a space or a tab as it is, the length unchanged."""
    assert _fold_keep_length(text) == "".join(fold(c) or c for c in text)
    assert len(_fold_keep_length(text)) == len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40))
def test_any_subject_is_folded_as_each_character_alone(text: str) -> None:
    """`_fold_keep_length`, whichever way it goes (the ASCII shortcut or not), folds each
    character alone ("É" → "e", a lone accent or a space kept)."""
    assert _fold_keep_length(text) == "".join(fold(c) or c for c in text)


titles = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
                 min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["[PROPOSITION] ", "[PROPOSAL] ", "Proposition : ", "[sel] [Proposal] ",
                        "PROPOSITION: ", "[propositión] "]), titles)
def test_proposal_title_keeps_the_title_with_spaces_collapsed(tag: str, title: str) -> None:
    assert proposal_title(tag + title, "[sel]") == " ".join(title.split())
    assert proposal_title("Re: " + tag + title, "[sel]") is None


# ---------------------------------------------------------------------------------------------
# referenced_number


@pytest.mark.parametrize(("subject", "expected"), [
    ("#12", 12),
    ("n°12", 12),
    ("N° 12", 12),
    ("no. 12", 12),
    ("No.12", 12),
    ("nº12", 12),
    ("No 12", 12),
    ("n° 7 ", 7),
    ("n°0012", 12),
    ("Re: [sel] Objection à la proposition #12", 12),
    ("Re: [sel] Proposition n°7 : achat", 7),
    ("#12 et #13", 12),
    ("pas de numéro", None),
    ("", None),
    ("#", None),
    ("n°", None),
    ("#12a", None),
    ("Numéro 12", None),
    ("casino 12", None),
    ("Domino12", None),
    ("Réunion à 12h", None),
])
def test_referenced_number(subject: str, expected: int | None) -> None:
    assert referenced_number(subject) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**9),
       st.sampled_from(["#{}", "n°{}", "N° {}", "no. {}", "nº{}", "Re: [sel] n°{} achat"]))
def test_referenced_number_reads_any_number(number: int, form: str) -> None:
    assert referenced_number(form.format(number)) == number


# ---------------------------------------------------------------------------------------------
# lifecycle

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("opened", "period", "expected"), [
    (T0, timedelta(days=3), DEADLINE),
    (T0, timedelta(hours=72), DEADLINE),
    (T0, timedelta(seconds=30), datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)),
    (T0, timedelta(minutes=90), datetime(2026, 11, 23, 13, 30, tzinfo=UTC)),
    # in UTC a day is 24 hours, even over the Europe/Paris change to summer time
    (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), timedelta(days=1),
     datetime(2026, 3, 29, 12, 0, tzinfo=UTC)),
])
def test_deadline_for(opened: datetime, period: timedelta, expected: datetime) -> None:
    assert deadline_for(opened, period) == expected


@pytest.mark.parametrize(("status", "objections", "now", "expected"), [
    (OPEN, 0, DEADLINE - timedelta(seconds=1), None),
    (OPEN, 2, DEADLINE - timedelta(days=2), None),
    (OPEN, 0, DEADLINE, Outcome(ADOPTED, late=False)),
    (OPEN, 1, DEADLINE, Outcome(CONTESTED, late=False)),
    (OPEN, 3, DEADLINE + timedelta(seconds=30), Outcome(CONTESTED, late=False)),
    (OPEN, 0, DEADLINE + LATE_AFTER, Outcome(ADOPTED, late=False)),
    (OPEN, 0, DEADLINE + LATE_AFTER + timedelta(microseconds=1), Outcome(ADOPTED, late=True)),
    (OPEN, 1, DEADLINE + timedelta(days=5), Outcome(CONTESTED, late=True)),
    (ADOPTED, 0, DEADLINE + timedelta(minutes=1), None),
    (CONTESTED, 1, DEADLINE + timedelta(minutes=1), None),
    (WITHDRAWN, 0, DEADLINE + timedelta(minutes=1), None),
    (SUPERSEDED, 1, DEADLINE + timedelta(days=1), None),
])
def test_settle(status: str, objections: int, now: datetime, expected: Outcome | None) -> None:
    assert settle(status, DEADLINE, objections, now) == expected


def test_late_after_is_a_couple_of_minutes() -> None:
    assert timedelta(0) < LATE_AFTER <= timedelta(minutes=10)


@pytest.mark.parametrize("objections", [0, 1, 4])
@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=5), timedelta(hours=3)])
def test_settling_twice_changes_nothing(objections: int, after: timedelta) -> None:
    first = settle(OPEN, DEADLINE, objections, DEADLINE + after)
    assert first is not None
    assert first.status == (CONTESTED if objections else ADOPTED)
    assert settle(first.status, DEADLINE, objections, DEADLINE + after) is None
    assert settle(first.status, DEADLINE, 0, DEADLINE + after + timedelta(days=1)) is None


members = st.sampled_from(["alice", "bob", "chloe", "david"])
events = st.lists(st.tuples(members, st.sampled_from(["object", "withdraw"])), max_size=20)


@settings(max_examples=300, deadline=None)
@given(events, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_contested_iff_some_member_last_objected(history: list[tuple[str, str]],
                                                  after: timedelta) -> None:
    standing: dict[str, bool] = {}
    for member, event in history:
        if event == "object":
            standing[member] = True
        else:
            standing.pop(member, None)
    last: dict[str, str] = dict(history)
    outcome = settle(OPEN, DEADLINE, len(standing), DEADLINE + after)
    assert outcome is not None
    assert (outcome.status == CONTESTED) == any(e == "object" for e in last.values())
    assert outcome.status in (ADOPTED, CONTESTED)
    assert outcome.late == (after > LATE_AFTER)
    assert settle(OPEN, DEADLINE, len(standing), DEADLINE - timedelta(seconds=1) - after) is None


DAY = timedelta(hours=24)


@pytest.mark.parametrize(("status", "reminded", "now", "expected"), [
    (OPEN, False, DEADLINE - DAY - timedelta(seconds=1), False),
    (OPEN, False, DEADLINE - DAY, True),
    (OPEN, False, DEADLINE - timedelta(hours=3), True),
    (OPEN, False, DEADLINE - timedelta(microseconds=1), True),
    (OPEN, False, DEADLINE, False),
    (OPEN, False, DEADLINE + timedelta(hours=1), False),
    (OPEN, False, T0, False),
    (OPEN, True, DEADLINE - DAY, False),
    (OPEN, True, DEADLINE - timedelta(hours=3), False),
    (ADOPTED, False, DEADLINE - timedelta(hours=3), False),
    (CONTESTED, False, DEADLINE - timedelta(hours=3), False),
    (WITHDRAWN, False, DEADLINE - timedelta(hours=3), False),
    (SUPERSEDED, False, DEADLINE - timedelta(hours=3), False),
])
def test_reminder_due(status: str, reminded: bool, now: datetime, expected: bool) -> None:
    assert reminder_due(status, DEADLINE, DAY, reminded, now) is expected


def test_reminder_due_when_the_period_is_shorter_than_the_reminder() -> None:
    deadline = T0 + timedelta(hours=2)
    assert reminder_due(OPEN, deadline, DAY, False, T0) is True
    assert reminder_due(OPEN, deadline, DAY, True, T0) is False


@pytest.mark.parametrize(("deadline", "by", "now", "expected"), [
    (DEADLINE, timedelta(days=2), T0, DEADLINE + timedelta(days=2)),
    (DEADLINE, timedelta(hours=1), DEADLINE - timedelta(seconds=1), DEADLINE + timedelta(hours=1)),
    (DEADLINE, timedelta(hours=1), DEADLINE, DEADLINE + timedelta(hours=1)),
    (DEADLINE, timedelta(days=1), DEADLINE + timedelta(hours=5),
     DEADLINE + timedelta(hours=5) + timedelta(days=1)),
    (DEADLINE, timedelta(minutes=90), DEADLINE + timedelta(days=3),
     DEADLINE + timedelta(days=3, minutes=90)),
])
def test_extended(deadline: datetime, by: timedelta, now: datetime, expected: datetime) -> None:
    assert extended(deadline, by, now) == expected


@settings(max_examples=200, deadline=None)
@given(st.timedeltas(min_value=-timedelta(days=10), max_value=timedelta(days=10)),
       st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=30)))
def test_extended_is_never_in_the_past_nor_sooner(offset: timedelta, by: timedelta) -> None:
    now = DEADLINE + offset
    new = extended(DEADLINE, by, now)
    assert new == (DEADLINE if offset <= timedelta(0) else now) + by
    assert new > now and new > DEADLINE
    assert settle(OPEN, new, 0, now) is None


# ---------------------------------------------------------------------------------------------
# dates

PARIS = "Europe/Paris"
NOW_2026 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("when", "timezone", "language", "now", "expected"), [
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), PARIS, "fr", NOW_2026,
     "samedi 28 novembre à 18h00"),
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), PARIS, "en", NOW_2026,
     "Saturday 28 November at 18:00"),
    (datetime(2025, 11, 28, 17, 0, tzinfo=UTC), PARIS, "fr", datetime(2025, 11, 25, tzinfo=UTC),
     "vendredi 28 novembre à 18h00"),
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), PARIS, "fr", None,
     "samedi 28 novembre à 18h00"),
    (datetime(2026, 8, 1, 7, 5, tzinfo=UTC), PARIS, "fr", NOW_2026, "samedi 1 août à 9h05"),
    (datetime(2026, 8, 1, 7, 5, tzinfo=UTC), PARIS, "en", NOW_2026, "Saturday 1 August at 09:05"),
    (datetime(2026, 2, 16, 23, 0, tzinfo=UTC), PARIS, "fr", NOW_2026, "mardi 17 février à 0h00"),
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), "UTC", "fr", NOW_2026,
     "samedi 28 novembre à 17h00"),
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), "America/Montreal", "fr", NOW_2026,
     "samedi 28 novembre à 12h00"),
    # the year, only when it is not now's year (in the list's timezone)
    (datetime(2027, 1, 4, 17, 0, tzinfo=UTC), PARIS, "fr", NOW_2026,
     "lundi 4 janvier 2027 à 18h00"),
    (datetime(2027, 1, 4, 17, 0, tzinfo=UTC), PARIS, "en", NOW_2026,
     "Monday 4 January 2027 at 18:00"),
    (datetime(2027, 1, 4, 17, 0, tzinfo=UTC), PARIS, "fr",
     datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "lundi 4 janvier à 18h00"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), PARIS, "fr", NOW_2026,
     "vendredi 1 janvier 2027 à 0h30"),
    (datetime(2025, 12, 20, 17, 0, tzinfo=UTC), PARIS, "en", NOW_2026,
     "Saturday 20 December 2025 at 18:00"),
    # Europe/Paris goes to summer time on 29 March 2026 at 01:00 UTC (2h → 3h)
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), PARIS, "fr", NOW_2026, "dimanche 29 mars à 1h30"),
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), PARIS, "fr", NOW_2026, "dimanche 29 mars à 1h59"),
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), PARIS, "fr", NOW_2026, "dimanche 29 mars à 3h00"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), PARIS, "fr", NOW_2026, "dimanche 29 mars à 3h30"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), PARIS, "en", NOW_2026,
     "Sunday 29 March at 03:30"),
    (datetime(2026, 3, 30, 16, 0, tzinfo=UTC), PARIS, "fr", NOW_2026, "lundi 30 mars à 18h00"),
    # … and back to winter time on 25 October 2026 at 01:00 UTC (3h → 2h): 2h30 twice
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), PARIS, "fr", NOW_2026,
     "dimanche 25 octobre à 2h30"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), PARIS, "fr", NOW_2026,
     "dimanche 25 octobre à 2h30"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), PARIS, "en", NOW_2026,
     "Sunday 25 October at 02:30"),
    (datetime(2026, 10, 24, 16, 0, tzinfo=UTC), PARIS, "fr", NOW_2026, "samedi 24 octobre à 18h00"),
    (datetime(2026, 10, 26, 17, 0, tzinfo=UTC), PARIS, "fr", NOW_2026, "lundi 26 octobre à 18h00"),
])
def test_format_when(when: datetime, timezone: str, language: str, now: datetime | None,
                     expected: str) -> None:
    assert format_when(when, timezone, language, now) == expected


def test_format_when_every_weekday_and_month() -> None:
    days_fr = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    months_fr = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre"]
    months_en = ["January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December"]
    # 2026-01-05 is a Monday; noon UTC is 13h or 14h in Paris
    for offset in range(7):
        when = datetime(2026, 1, 5 + offset, 12, 0, tzinfo=UTC)
        assert format_when(when, PARIS, "fr", NOW_2026).startswith(days_fr[offset] + " ")
    for month in range(1, 13):
        when = datetime(2026, month, 15, 12, 0, tzinfo=UTC)
        hour = 14 if 4 <= month <= 10 else 13
        assert format_when(when, PARIS, "fr", NOW_2026).endswith(
            f" 15 {months_fr[month - 1]} à {hour}h00")
        assert format_when(when, PARIS, "en", NOW_2026).endswith(
            f" 15 {months_en[month - 1]} at {hour}:00")


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                    timezones=st.just(UTC)),
       st.sampled_from(["fr", "en"]))
def test_format_when_says_the_year_only_when_it_differs(when: datetime, language: str) -> None:
    text = format_when(when, PARIS, language, now=when)
    local_year = str(when.astimezone(ZoneInfo(PARIS)).year)
    assert local_year not in text.split()
    other = format_when(when, PARIS, language, now=when + timedelta(days=800))
    assert local_year in other.split()
    assert format_when(when, PARIS, language) == text


@pytest.mark.parametrize(("when", "timezone", "language", "expected"), [
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), PARIS, "fr", "28 novembre 2026"),
    (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), PARIS, "en", "28 November 2026"),
    (datetime(2026, 8, 1, 7, 0, tzinfo=UTC), PARIS, "fr", "1 août 2026"),
    (datetime(2026, 2, 3, 9, 0, tzinfo=UTC), PARIS, "fr", "3 février 2026"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), PARIS, "fr", "1 janvier 2027"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "UTC", "en", "31 December 2026"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "America/Montreal", "fr", "31 décembre 2026"),
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), PARIS, "fr", "29 mars 2026"),
    (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), PARIS, "en", "25 October 2026"),
    (datetime(2026, 10, 24, 21, 30, tzinfo=UTC), PARIS, "en", "24 October 2026"),
])
def test_format_date(when: datetime, timezone: str, language: str, expected: str) -> None:
    assert format_date(when, timezone, language) == expected


def test_a_deadline_before_the_daemon_started_is_late_however_recent() -> None:
    from datetime import UTC, datetime, timedelta

    from mailbot.decisions.lifecycle import settle

    deadline = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    started = deadline + timedelta(seconds=3)
    outcome = settle("open", deadline, 0, started + timedelta(seconds=1), running_since=started)
    assert outcome is not None and outcome.late
    on_time = settle("open", deadline, 0, deadline + timedelta(seconds=1),
                     running_since=deadline - timedelta(hours=1))
    assert on_time is not None and not on_time.late


@pytest.mark.parametrize(("own", "reason"), [
    ("OBJECTION : c'est trop cher pour nous.", "c'est trop cher pour nous."),
    ("Bonjour,\n\nJe m'oppose, le prix est trop élevé.\nMerci", "le prix est trop élevé.\nMerci"),
    ("-1 trop tôt", "trop tôt"),
    ("**Objection** — pas maintenant", "pas maintenant"),
    ("OBJECTION\nNous n'avons pas le budget.", "Nous n'avons pas le budget."),
    ("Objectivement, non.", "Objectivement, non."),  # not the word "objection"
])
def test_the_reason_of_an_objection_goes_without_its_objection_word(own: str,
                                                                    reason: str) -> None:
    from mailbot.reading.replies import reason_of

    assert reason_of(own) == reason
