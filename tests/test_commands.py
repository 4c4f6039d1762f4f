"""Email commands read from a subject and a body: mailbot.reading.commands (pure, no I/O)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.reading.commands import VERBS, Command, Reading, parse_commands, parse_line

# (word as a person types it, command, language of the word)
WORDS = [
    ("help", "help", "en"), ("aide", "help", "fr"),
    ("digest", "digest", "en"), ("résumé", "digest", "fr"),
    ("offers", "offers", "en"), ("offres", "offers", "fr"), ("requests", "requests", "en"),
    ("demandes", "requests", "fr"), ("renew", "renew", "en"), ("renouveler", "renew", "fr"),
    ("close", "close", "en"), ("clore", "close", "fr"),
    ("pay", "pay", "en"), ("payer", "pay", "fr"), ("balance", "balance", "en"),
    ("solde", "balance", "fr"), ("statement", "statement", "en"), ("relevé", "statement", "fr"),
    ("proposals", "proposals", "en"), ("propositions", "proposals", "fr"),
    ("decisions", "decisions", "en"), ("registre", "decisions", "fr"),
    ("withdraw", "withdraw", "en"), ("retirer", "withdraw", "fr"),
    ("extend", "extend", "en"), ("prolonger", "extend", "fr"),
    ("index", "index", "en"), ("sommaire", "index", "fr"), ("archive", "index", "en"),
    ("archives", "index", "fr"), ("get", "get", "en"), ("envoyer", "get", "fr"),
    ("join", "join", "en"), ("subscribe", "join", "en"),
    ("inscription", "join", "fr"), ("inscrire", "join", "fr"),
    ("leave", "leave", "en"), ("unsubscribe", "leave", "en"),
    ("désinscription", "leave", "fr"), ("quitter", "leave", "fr"),
    ("nomail", "nomail", "en"), ("pause", "nomail", "fr"),
    ("mail", "mail", "en"), ("reprise", "mail", "fr"),
    ("language", "language", "en"), ("langue", "language", "fr"),
    ("members", "members", "en"), ("membres", "members", "fr"),
    ("add", "add", "en"), ("ajouter", "add", "fr"),
    ("remove", "remove", "en"), ("supprimer", "remove", "fr"),
    ("approve", "approve", "en"), ("approuver", "approve", "fr"),
    ("reject", "reject", "en"), ("refuser", "reject", "fr"),
    ("discard", "discard", "en"), ("jeter", "discard", "fr"),
    ("charter", "charter", "en"), ("rules", "charter", "en"), ("charte", "charter", "fr"),
    ("règles", "charter", "fr"), ("règlement", "charter", "fr"),
    ("moderate", "moderate", "en"), ("modérer", "moderate", "fr"),
    ("unmoderate", "unmoderate", "en"), ("libérer", "unmoderate", "fr"),
    ("remind", "remind", "en"), ("rappel", "remind", "fr"), ("rappeler", "remind", "fr"),
    ("ban", "ban", "en"), ("bannir", "ban", "fr"),
    ("unban", "unban", "en"), ("débannir", "unban", "fr"),
]


def verbs(reading: Reading) -> list[str]:
    return [c.verb for c in reading.commands]


@pytest.mark.parametrize(("word", "verb", "language"), WORDS)
def test_every_word_alone_in_the_body(word: str, verb: str, language: str) -> None:
    reading = parse_commands("", word)
    assert reading.commands == [Command(verb, (), word, language)]
    assert reading.unknown == []
    assert reading.stopped_early is False
    assert reading.language == language


@pytest.mark.parametrize(("word", "verb", "language"), WORDS)
def test_every_word_in_capitals_in_the_subject(word: str, verb: str, language: str) -> None:
    reading = parse_commands(f"Re: [sel] {word.upper()}", "")
    assert [(c.verb, c.language) for c in reading.commands] == [(verb, language)]


def test_the_table_covers_every_command_of_verbs() -> None:
    """Every command VERBS knows (except the "end" marker) has a row above in both languages."""
    covered = {(verb, language) for _, verb, language in WORDS}
    known = {value for value in VERBS.values() if value[0] != "end"}
    assert known <= covered


@pytest.mark.parametrize(("line", "verb", "args", "language"), [
    ("  DÉSINSCRIPTION  ", "leave", (), "fr"),
    ("Désinscription", "leave", (), "fr"),
    ("desinscription", "leave", (), "fr"),
    ("se désinscrire", "leave", (), "fr"),
    ("s'inscrire", "join", (), "fr"),
    ("s’inscrire", "join", (), "fr"),  # typographic apostrophe from phones
    ("Langue   EN", "language", ("EN",), "fr"),
    ("language fr", "language", ("fr",), "en"),
    ("\tLANGUE\tfr ", "language", ("fr",), "fr"),
    ("add bob@example.net Bob Martin", "add", ("bob@example.net", "Bob", "Martin"), "en"),
    ("Ajouter  chloe@example.fr   Chloé", "add", ("chloe@example.fr", "Chloé"), "fr"),
    ("remove bob@example.net", "remove", ("bob@example.net",), "en"),
    ("supprimer bob@example.net", "remove", ("bob@example.net",), "fr"),
    ("reject off topic, sorry", "reject", ("off", "topic,", "sorry"), "en"),
    ("Refuser hors sujet", "reject", ("hors", "sujet"), "fr"),
    ("approuver", "approve", (), "fr"),
    ("JETER", "discard", (), "fr"),
    ("?", "help", (), "en"),
    ("who", "members", (), "en"),
])
def test_parse_line_words_and_arguments(line: str, verb: str, args: tuple[str, ...],
                                        language: str) -> None:
    command = parse_line(line)
    assert command is not None
    assert (command.verb, command.args, command.language) == (verb, args, language)
    assert command.line == " ".join(line.split())


@pytest.mark.parametrize("line", [
    "", "   ", "hello there", "joindre", "joined", "please join", "Bonjour", "désinscriptions",
    "> join", "mailing", "addition 2", "-- ",
])
def test_parse_line_refuses_what_does_not_start_with_a_command_word(line: str) -> None:
    assert parse_line(line) is None


def test_language_argument_case_does_not_matter_for_the_verb() -> None:
    reading = parse_commands("", "Langue   EN")
    assert verbs(reading) == ["language"]
    assert [a.lower() for a in reading.commands[0].args] == ["en"]


@pytest.mark.parametrize(("subject", "verb"), [
    ("join", "join"),
    ("Re: [sel] join", "join"),
    ("RE : [sel] Re: aide", "help"),
    ("TR: inscription", "join"),
    ("Fwd: [sel] membres", "members"),
    ("AW: leave", "leave"),
    ("[sel] Re: help", "help"),
    ("re:re: [SEL] unsubscribe", "leave"),
    ("  Désinscription  ", "leave"),
])
def test_command_in_the_subject_behind_reply_prefixes(subject: str, verb: str) -> None:
    reading = parse_commands(subject, "")
    assert verbs(reading) == [verb]
    assert reading.unknown == []


def test_french_ref_marker_in_the_subject() -> None:
    assert verbs(parse_commands("Réf. : désinscription", "")) == ["leave"]


@pytest.mark.parametrize("subject", ["Re: [sel] Réunion de jeudi", "", "Re:", "[sel]", "Bonjour"])
def test_a_subject_that_is_not_a_command_is_not_counted_as_unknown(subject: str) -> None:
    reading = parse_commands(subject, "")
    assert reading.commands == []
    assert reading.unknown == []
    assert reading.stopped_early is False


@pytest.mark.parametrize(("subject", "body"), [
    ("join", "join\n"),
    ("Re: [sel] leave", "leave\n\nMarie"),
    ("aide", "Bonjour,\naide\nMerci"),
    ("langue en", "langue en"),
])
def test_body_repeating_the_subject_counts_once(subject: str, body: str) -> None:
    reading = parse_commands(subject, body)
    assert len(reading.commands) == 1


@pytest.mark.parametrize(("subject", "body"), [
    ("Re: [sel] Join", "join"),
    ("Langue EN", "langue en"),
])
def test_body_repeating_the_subject_in_another_case_counts_once(subject: str, body: str) -> None:
    assert len(parse_commands(subject, body).commands) == 1


def test_a_different_command_in_the_body_is_kept_after_the_subject() -> None:
    reading = parse_commands("Re: [sel] leave", "join")
    assert verbs(reading) == ["leave", "join"]


def test_several_commands_one_per_line_in_order() -> None:
    body = "langue en\r\npause\r\n\r\nadd bob@example.net Bob\r\nremove old@example.net\r\n"
    reading = parse_commands("", body)
    assert verbs(reading) == ["language", "nomail", "add", "remove"]
    assert reading.commands[2].args == ("bob@example.net", "Bob")
    assert reading.unknown == []


@pytest.mark.parametrize("tail", [
    "> join\n> leave\n",
    "-- \nleave\nMarie Dupont\n",
    "--\nleave\n",
    "Le lun. 3 nov. 2025 à 10:00, X <x@y> a écrit :\nleave\n> leave\n",
    "On Mon, 3 Nov 2025 at 10:00, X <x@y> wrote:\nleave\n> leave\n",
    "-----Original Message-----\nFrom: X\nleave\n",
    "De : X <x@y>\nEnvoyé : lundi 3 novembre 2025 10:00\nÀ : sel-request@example.org\n"
    "Objet : aide\n\nleave\n",
    "From: X <x@y>\nSent: Monday, November 3, 2025 10:00 AM\nTo: sel-request@example.org\n"
    "Subject: help\n\nleave\n",
    "Envoyé de mon iPhone\nleave\n",
])
def test_quoted_text_and_what_follows_a_signature_or_attribution_is_ignored(tail: str) -> None:
    reading = parse_commands("", "nomail\n\n" + tail)
    assert verbs(reading) == ["nomail"]
    assert reading.unknown == []
    assert reading.stopped_early is False


def test_quoted_command_alone_gives_nothing() -> None:
    reading = parse_commands("", "> join\n>> leave")
    assert reading.commands == []
    assert reading.unknown == []


@pytest.mark.parametrize("line", [
    "Bonjour,", "Bonjour à tous", "Bonsoir", "Salut !", "Hello,", "Hi all,", "Dear moderators,",
    "Chère Marie,", "Merci", "Merci beaucoup !", "Merci d'avance", "Thanks", "Thank you very much!",
    "Cordialement,", "Bien à vous,", "Amitiés", "Bises", "Best,", "Regards", "Kind regards,",
])
def test_greetings_are_neither_commands_nor_unknown(line: str) -> None:
    reading = parse_commands("", f"{line}\njoin\n{line}")
    assert verbs(reading) == ["join"]
    assert reading.unknown == []


def test_a_long_line_starting_with_a_greeting_is_unknown() -> None:
    line = "Bonjour je voudrais savoir comment on fait pour venir"
    reading = parse_commands("", line)
    assert reading.unknown == [line]


def test_unknown_lines_are_listed_normalised() -> None:
    reading = parse_commands("", "Que   faire ?\njoin\nMarie  Dupont ")
    assert verbs(reading) == ["join"]
    assert reading.unknown == ["Que faire ?", "Marie Dupont"]
    assert reading.stopped_early is False


def test_reading_stops_after_max_unknown_lines() -> None:
    reading = parse_commands("", "one\ntwo\nthree\njoin\nleave")
    assert reading.commands == []
    assert reading.unknown == ["one", "two", "three"]
    assert reading.stopped_early is True


@pytest.mark.parametrize(("max_unknown", "commands", "unknown", "early"), [
    (1, [], ["one"], True),
    (2, [], ["one", "two"], True),
    (3, ["join"], ["one", "two"], False),
    (5, ["join"], ["one", "two"], False),
])
def test_max_unknown_is_a_parameter(max_unknown: int, commands: list[str], unknown: list[str],
                                    early: bool) -> None:
    reading = parse_commands("", "one\ntwo\njoin", max_unknown=max_unknown)
    assert (verbs(reading), reading.unknown, reading.stopped_early) == (commands, unknown, early)


def test_commands_before_the_unknown_lines_are_kept() -> None:
    reading = parse_commands("", "pause\nx\ny\nz\nreprise")
    assert verbs(reading) == ["nomail"]
    assert reading.stopped_early is True


@pytest.mark.parametrize(("count", "max_commands", "kept", "early"), [
    (20, 20, 20, False),
    (21, 20, 20, True),
    (30, 20, 20, True),
    (5, 2, 2, True),
    (2, 2, 2, False),
])
def test_reading_stops_after_max_commands(count: int, max_commands: int, kept: int,
                                          early: bool) -> None:
    body = "\n".join(f"add u{i}@example.org" for i in range(count))
    reading = parse_commands("", body, max_commands=max_commands)
    assert [c.args for c in reading.commands] == [(f"u{i}@example.org",) for i in range(kept)]
    assert reading.stopped_early is early


def test_the_subject_command_counts_towards_max_commands() -> None:
    body = "\n".join(f"add u{i}@example.org" for i in range(20))
    reading = parse_commands("leave", body)
    assert len(reading.commands) == 20
    assert reading.commands[0].verb == "leave"
    assert reading.stopped_early is True


@pytest.mark.parametrize("end", ["end", "fin", "FIN", "stop", "  Fin  "])
def test_end_stops_reading(end: str) -> None:
    reading = parse_commands("", f"pause\n{end}\nleave\nwhat is this\n")
    assert verbs(reading) == ["nomail"]
    assert reading.unknown == []
    assert reading.stopped_early is False


def test_end_is_not_a_command() -> None:
    assert parse_commands("", "fin\njoin").commands == []


@pytest.mark.parametrize(("subject", "body", "language"), [
    ("", "aide\nhelp", "fr"),
    ("", "help\naide", "en"),
    ("Re: aide", "join", "fr"),
    ("Bonjour", "Bonjour,\nsubscribe\ninscription", "en"),
    ("", "Bonjour,\nje voudrais\ninscription", "fr"),
    ("", "Bonjour", None),
    ("", "", None),
])
def test_reading_language_is_the_first_command_words(subject: str, body: str,
                                                     language: str | None) -> None:
    assert parse_commands(subject, body).language == language


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.integers(min_value=1, max_value=5),
       st.integers(min_value=1, max_value=25))
def test_any_text_never_raises_and_limits_hold(subject: str, body: str, max_unknown: int,
                                               max_commands: int) -> None:
    reading = parse_commands(subject, body, max_unknown=max_unknown, max_commands=max_commands)
    assert len(reading.commands) <= max_commands
    assert len(reading.unknown) <= max_unknown
    assert all(c.verb != "end" for c in reading.commands)
    assert reading.language in (None, "en", "fr")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_line_never_raises(line: str) -> None:
    command = parse_line(line)
    assert command is None or command.verb in {v for v, _ in VERBS.values()}


def test_end_in_the_subject_is_not_a_command() -> None:
    reading = parse_commands("STOP", "join")
    assert reading.commands == [] and reading.unknown == []


@pytest.mark.parametrize(("line", "expected"), [
    ("retirer 12", 12), ("retirer #12", 12), ("retirer n°12", 12), ("withdraw No. 7", 7),
    ("withdraw no.7", 7), ("clore n° 3", 3), ("clore douze", None), ("clore", None),
    ("clore 99999999999", None),
])
def test_number_arg(line: str, expected: int | None) -> None:
    from mailbot.reading.commands import number_arg

    command = parse_line(line)
    assert command is not None and number_arg(command) == expected
