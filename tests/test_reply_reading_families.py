"""The writer's own text, family by family of mail clients and languages (pure).

Each family is written as its client writes it; the own text must come out whole, and
nothing of the quote, the header, the footer or the signature with it.
"""

import pytest

from mailbot.reading.replies import first_line, own_text, read_reply, stance
from mailbot.reading.text import html_to_text

OWN = "Je m'oppose, c'est trop cher."

# Quote headers ("On … wrote:") as each client and language writes them, over the quote.
QUOTE_HEADERS = {
    "gmail-fr": "Le mar. 1 déc. 2026 à 18:00, Marie Dubois <marie@example.org> a écrit :",
    "gmail-fr-wrapped": "Le mar. 1 déc. 2026 à 18:00, Marie Dubois <\nmarie@example.org> a "
                        "écrit :",
    "iphone-fr": "Le 1 déc. 2026 à 18:00, Marie Dubois <marie@example.org> a écrit :",
    "thunderbird-fr": "Le 01/12/2026 à 18:00, Marie Dubois a écrit :",
    "zimbra-fr": "- Le 2026-12-01 18:00, Marie Dubois a écrit :",
    "gmail-en": "On Tue, Dec 1, 2026 at 6:00 PM Marie Dubois <marie@example.org> wrote:",
    "gmail-en-wrapped": "On Tue, Dec 1, 2026 at 6:00 PM Marie Dubois <marie@example.org>\n"
                        "wrote:",
    "apple-en": "On 1 Dec 2026, at 18:00, Marie Dubois <marie@example.org> wrote:",
    "zoho": "---- On Tue, 01 Dec 2026 18:00:00 +0100 marie@example.org wrote ----",
    "de": "Am 01.12.2026 um 18:00 schrieb Marie Dubois <marie@example.org>:",
    "de-outlook-mobile": "Marie Dubois <marie@example.org> schrieb am Di., 1. Dez. 2026, "
                         "18:00:",
    "es": "El mar, 1 dic 2026 a las 18:00, Marie Dubois (<marie@example.org>) escribió:",
    "it": "Il giorno mar 1 dic 2026 alle ore 18:00 Marie Dubois <marie@example.org> ha "
          "scritto:",
    "pt": "Em ter., 1 de dez. de 2026 às 18:00, Marie Dubois <marie@example.org> escreveu:",
    "nl": "Op di 1 dec. 2026 om 18:00 schreef Marie Dubois <marie@example.org>:",
    "pl": "Dnia 1 grudnia 2026 18:00 Marie Dubois <marie@example.org> napisał(a):",
    "sv": "Den tis 1 dec. 2026 kl 18:00 skrev Marie Dubois <marie@example.org>:",
    "da": "Den tir. 1. dec. 2026 kl. 18.00 skrev Marie Dubois <marie@example.org>:",
    "no": "tir. 1. des. 2026 kl. 18:00 skrev Marie Dubois <marie@example.org\n>:",
    "fi": "Marie Dubois <marie@example.org> kirjoitti ti 1.12.2026 klo 18.00:",
    "cs": "Dne 1. 12. 2026 18:00 Marie Dubois <marie@example.org> napsal(a):",
    "ru": "1 декабря 2026 г., в 18:00, Marie Dubois <marie@example.org> написал(а):",
    "uk": "1 грудня 2026 р. о 18:00 <marie@example.org> написав:",
    "hu": "2026.12.01. 18:00 keltezéssel, Marie Dubois írta:",
    "ja": "2026年12月1日(火) 18:00 Marie Dubois <marie@example.org>:",
    "zh": "在 2026年12月1日 18:00，Marie Dubois <marie@example.org> 写道：",
    "ko": "2026년 12월 1일 (화) 오후 6:00, Marie Dubois <marie@example.org>님이 작성:",
    "ar": "\u202bفي ١/١٢/٢٠٢٦ الساعة ٦:٠٠ م، كتب Marie Dubois <marie@example.org>:\u202c",
    "date-and-address-only": "01.12.2026, 18:00, \"Marie Dubois\" <marie@example.org>:",
}


@pytest.mark.parametrize("header", QUOTE_HEADERS.values(), ids=QUOTE_HEADERS.keys())
def test_a_quote_header_and_its_quote_are_not_the_writers(header: str) -> None:
    body = f"{OWN}\n\n{header}\n\n> Proposition n°3 : cotisation à 10 €\n> OBJECTION\n"
    assert own_text(body) == OWN


@pytest.mark.parametrize("header", QUOTE_HEADERS.values(), ids=QUOTE_HEADERS.keys())
def test_an_objection_typed_under_the_quote_is_an_objection(header: str) -> None:
    body = f"{header}\n> Proposition n°3 : cotisation à 10 €\n> +1\n\n{OWN}\n\nLucien\n"
    reply = read_reply(body)
    assert reply.text == f"{OWN}\n\nLucien"
    assert reply.stance == "objection"


UNWRAPPED = {k: v for k, v in QUOTE_HEADERS.items() if "\n>" not in v}


@pytest.mark.parametrize("header", UNWRAPPED.values(), ids=UNWRAPPED.keys())
def test_an_unquoted_original_under_a_quote_header_is_not_the_writers(header: str) -> None:
    body = f"{OWN}\n\n{header}\n\nBonjour à tous,\nJe propose une cotisation à 10 €.\n"
    assert own_text(body) == OWN


# Quote headers over an original that is not ">"-quoted (HTML made text, webmails).
UNQUOTED_ORIGINAL_HEADERS = [
    "On Tue, 2011-03-01 at 18:02 +0530, Abhishek Kona wrote:",
    "2014-03-20 8:48 GMT+01:00 Rémi Dolan <do_not_reply@dolan.com>:",
    "El 19/03/2014 11:34, Juan Pérez <juan.perez@mailcatch.com> ha escrit:",
    "W dniu 7 stycznia 2015 15:24 użytkownik Paweł Brzoski <pbrzoski91@gmail.com> napisał:",
    "W dniu 2015-01-07 14:23, pbrzoski91@gmail.com pisze: ",
    "Am 25.06.2015 um 10:55 schrieb Test user:",
    "Test user <test@example.com> schrieb:",
    "2016/11/08 14:26、Test user <test@example.com> のメッセージ:",
    "Wiadomość napisana przez test.pl test@test.pl w dniu 17.01.2023, o godz. 11:09:",
    "Am 20.06.24 um 16:20 schrieb Klarstein\nVon: Klarstein <k@example.de>\nDatum: 20. Juni",
]


@pytest.mark.parametrize("header", UNQUOTED_ORIGINAL_HEADERS)
def test_a_quote_header_over_an_unquoted_original_ends_the_text(header: str) -> None:
    assert own_text(f"Thank you very much.\n\n{header}\n\nThis is my previous mail") == \
        "Thank you very much."


def test_a_bare_wrote_line_is_a_quote_header_only_over_a_quote() -> None:
    assert own_text("Oui.\n\nMarie a écrit :\n> Qui vient ?\n") == "Oui."
    body = "Lorem.\n\nSomething wrote:\nDuis ut libero eu lectus."
    assert own_text(body) == body


def test_interleaved_answers_are_kept_in_order() -> None:
    body = ("Le 01/12/2026 à 18:00, Marie a écrit :\n> Tu viens samedi ?\nOui, sans faute.\n"
            "> Tu apportes quoi ?\n\nune tarte aux pommes\n\n> Et dimanche ?\nnon\n")
    assert own_text(body) == "Oui, sans faute.\n\nune tarte aux pommes\n\nnon"


def test_a_quoted_line_wrapped_without_its_marker_stays_quoted() -> None:
    body = ("D'accord.\n\nLe 01/12/2026 à 18:00, Marie a écrit :\n"
            "> Je propose que nous tenions une permanence le mercredi matin de 10h à\n"
            "11h30 à la médiathèque.\n> Marie\n")
    assert own_text(body) == "D'accord."


# Outlook header blocks, by language, plain and as HTML mail makes them text (bold).
HEADER_BLOCKS = {
    "en": "From: Marie Dubois <marie@example.org>\nSent: Tuesday, December 1, 2026 6:00 PM\n"
          "To: sel@example.org\nSubject: [sel] Cotisation",
    "fr": "De : Marie Dubois <marie@example.org>\nEnvoyé : mardi 1 décembre 2026 18:00\n"
          "À : sel@example.org\nObjet : [sel] Cotisation",
    "fr-yahoo": "      De : Marie Dubois <marie@example.org>\n À : sel@example.org\n"
                " Envoyé le : Mardi 1 décembre 2026 18h00\n Objet : Re: Cotisation",
    "fr-bold": "*De :* Marie Dubois <marie@example.org>\n*Envoyé :* mardi 1 décembre 2026\n"
               "*À :* sel@example.org\n*Objet :* [sel] Cotisation",
    "en-markdown-bold": "**From:** Marie <marie@example.org>\n**Sent:** Tuesday\n"
                        "**To:** sel@example.org",
    "de": "Von: Marie Dubois <marie@example.org>\nGesendet: Dienstag, 1. Dezember 2026 18:00\n"
          "An: sel@example.org\nBetreff: AW: Cotisation",
    "de-bold": "**Gesendet:** Dienstag, 1. Dezember 2026 um 18:00\n\n"
               "**Von:**\"Marie\" <marie@example.org>\n\n**An:**\"SEL\" <sel@example.org>",
    "pl": "Od: Marie Dubois <marie@example.org>\nWysłano: wtorek, 1 grudnia 2026 18:00\n"
          "Do: sel@example.org\nTemat: RE: Cotisation",
    "pl-one-line": "Temat: RE: Cotisation 2026-12-01 18:00Nadawca: \"Marie\" marie@example.org "
                   "Adresat:",
    "nl": "Van: Marie Dubois [mailto:marie@example.org]\nVerzonden: dinsdag 1 december 2026\n"
          "Aan: sel@example.org\nOnderwerp: Cotisation",
    "es": "De: Marie Dubois <marie@example.org>\nEnviado: martes, 1 de diciembre de 2026\n"
          "Para: sel@example.org\nAsunto: Cotisation",
    "it": "Da: Marie Dubois <marie@example.org>\nInviato: martedì 1 dicembre 2026 18:00\n"
          "A: sel@example.org\nOggetto: Cotisation",
    "sv": "Från: Marie Dubois <marie@example.org>\nSkickat: den 1 december 2026 18:00\n"
          "Till: sel@example.org\nÄmne: Cotisation",
    "zh": "发件人: Marie Dubois <marie@example.org>\n发送时间: 2026年12月1日 18:00\n"
          "收件人: sel\n主题: Cotisation",
    "orange": "Message du 01/12/26 18:00\nDe : \"Marie Dubois\" <marie@example.org>\n"
              "A : sel@example.org\nCopie à :\nObjet : Cotisation",
}


@pytest.mark.parametrize("block", HEADER_BLOCKS.values(), ids=HEADER_BLOCKS.keys())
def test_an_outlook_header_block_ends_the_writers_text(block: str) -> None:
    body = f"{OWN}\n\n{block}\n\nBonjour à tous,\nJe propose une cotisation à 10 €.\n+1\n"
    assert own_text(body) == OWN
    assert own_text(f"{OWN}\n\n________________________________\n{block}\n\n+1\n") == OWN


# Forwarded and original-message blocks: nothing under them is the writer's.
SEPARATORS = [
    "-----Original Message-----", "-----Message d'origine-----", "----- Mail original -----",
    "-------- Message transféré --------", "---------- Forwarded message ---------",
    "Début du message réexpédié :", "Begin forwarded message:", "-----Original-Nachricht-----",
    "-------- Oprindelig besked --------", "-------- Messaggio originale --------",
    "---- Mensaje original ----",
]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_a_forwarded_or_original_block_is_not_the_writers(separator: str) -> None:
    body = f"{OWN}\n\n{separator}\nDe : Marie <marie@example.org>\n\nOBJECTION\n+1\n"
    assert own_text(body) == OWN


def test_orange_quotes_its_header_block_too() -> None:
    body = (f"{OWN}\nODETTE\n\n> Message du 02/12/26 11:30\n> De : \"SEL\" <sel@example.org>\n"
            "> A : sel@example.org\n> Copie à : \n> Objet : Rappel\n>\n> OBJECTION\n")
    assert own_text(body) == f"{OWN}\nODETTE"


# Mobile and webmail footers, dropped under the text and above it.
FOOTERS = [
    "Envoyé de mon iPhone", "Envoyé depuis mon appareil Galaxy", "Envoyé à partir de mon iPad",
    "Envoyé de Yahoo Mail pour Android", "Obtenir Outlook pour Android",
    "Sent from my iPhone", "Sent from my Verizon Wireless BlackBerry", "Sent from TypeApp",
    "Sent from Yahoo Mail on Android", "Get Outlook for iOS<https://aka.ms/o0ukef>",
    "Von meinem iPhone gesendet", "Gesendet von Outlook für Android", "Gesendet mit iPhone",
    "Enviado desde mi iPhone", "Enviado do meu iPhone", "Inviato da iPhone",
    "Verzonden vanaf mijn iPhone", "Verzonden vanuit Outlook voor iOS", "Wysłane z iPhone'a",
    "Skickat från min iPhone",
    "Sendt fra min iPhone", "Отправлено с iPhone", "iPhoneから送信", "发自我的iPhone",
    "Az iPhone-omról küldve", "Trimis de pe iPhone\u2011ul meu",
    "\u202bأُرسلت من الـ iPhone\u202c",
]


@pytest.mark.parametrize("footer", FOOTERS)
def test_a_mobile_footer_is_dropped(footer: str) -> None:
    assert own_text(f"{OWN}\n\n{footer}\n\n> OBJECTION\n") == OWN
    assert own_text(f"{footer}\n\n{OWN}\n") == OWN


@pytest.mark.parametrize("line", [
    "Sent from my desk, is much easier than my mobile phone.",
    "The notification was sent from my iPhone app to all users.",
    "Envoyé par la poste hier, tu devrais le recevoir.",
])
def test_a_sentence_about_sending_is_kept(line: str) -> None:
    assert own_text(f"{OWN}\n\n{line}") == f"{OWN}\n\n{line}"


@pytest.mark.parametrize(("body", "expected"), [
    ("Bonne idée.\n\n-- \nMarie Dubois\nSEL de Saint-Martin\n06 00 00 00 00\n",
     "Bonne idée."),
    ("Bonne idée.\n\nCordialement,\n\nJean-Pierre Martin\n12, allée des Chênes\n33000 Saint-Martin",
     "Bonne idée.\n\nCordialement,\n\nJean-Pierre Martin"),
    ("Great.\n\nAll the best,\n\nPhil\n\nHere is some more text after the signature",
     "Great.\n\nAll the best,\n\nPhil"),
    ("Great.\n\nKind regards,\nPerrin Aybara\n\n\n______________\nperrin@example.com\n+33 5",
     "Great.\n\nKind regards,\nPerrin Aybara"),
    ("Oui.\n\nBises, Yvette\nP.S. J'apporte la tarte.\n", "Oui.\n\nBises, Yvette\n"
     "P.S. J'apporte la tarte."),
    ("Oh thanks.\n\nHaving the function would be great.\n\n-Abhishek Kona\n",
     "Oh thanks.\n\nHaving the function would be great."),
    ("Hello Anna,\n\nI am not available.\n\n/John\n", "Hello Anna,\n\nI am not available."),
])
def test_a_signature_goes_and_a_sign_off_stays_with_its_name(body: str, expected: str) -> None:
    assert own_text(body) == expected


@pytest.mark.parametrize("body", [
    "On the surface, this looks like a quote header but it's not.\nOn average, it works.",
    "See https://example.com/blog/on-date-someone-wrote-about-parsing\nPatterns like \"wrote:\".",
    "I wanted to discuss the issue with regards to the payment.\n\nAs regards the timeline, ok.",
    "Service Expire Date\n------------------------\nRegistration Jun 27, 2018 github.com",
    "From: the garden, tomatoes.\nDe : Paris à Lyon, le train est cher.",
    "Message du 3 décembre bien reçu, merci.",
    "Here are timestamps:\n\n2024-01-15 14:30:25\n15.01.2024 14:30\nJan 15, 2024 at 14:30",
])
def test_text_that_only_looks_like_a_quote_is_kept_whole(body: str) -> None:
    assert own_text(body) == body


def test_an_external_sender_banner_above_the_text_is_dropped() -> None:
    body = ("CAUTION: This email originated from outside of the organization. Do not click "
            "links.\n\nHi,\n\nI object.\n")
    assert read_reply(body).first_line == "Hi,"
    assert own_text(body) == "Hi,\n\nI object."


def test_html_only_replies() -> None:
    outlook = ('<div>Je m&#39;oppose.</div><div id="appendonsend"></div><hr>'
               '<div id="divRplyFwdMsg"><b>De :</b> Marie</div><div>OBJECTION retirée</div>')
    assert own_text(html_to_text(outlook)) == "Je m'oppose."
    bottom = ('<blockquote type="cite">Proposition n°3</blockquote><div>Objection : trop '
              'cher.</div>')
    assert read_reply(html_to_text(bottom)).stance == "objection"
    table = "<p>Solde</p><table><tr><td>Marie</td><td>135</td></tr></table>"
    assert html_to_text(table) == "Solde\n\nMarie 135"


@pytest.mark.parametrize(("body", "line"), [
    ("Merci !\n\nEnvoyé de mon iPhone\n\n> OBJECTION\n", "Merci !"),
    ("CORDIALEMENT", "CORDIALEMENT"),
    ("Bonjour à tous,\n\nVéto.\n\nCordialement,\nPaul", "Véto."),
])
def test_the_first_line_skips_greetings_unless_there_is_nothing_else(body: str,
                                                                    line: str) -> None:
    assert first_line(body) == line
    assert line in own_text(body)
    assert stance(body) == ("objection" if line == "Véto." else "comment")
