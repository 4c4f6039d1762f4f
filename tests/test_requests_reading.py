"""The reader of requests in members' own words (mailbot.reading.requests), over tables of
sentences by family: each family is written several ways (politeness, ALL CAPS, no accents,
typos, French and English), none of them copied from the elders eval set. Pure: the list
it knows is data (a roster, open proposals, items)."""

from typing import Any

import pytest

from mailbot.reading.requests import Known, OpenItem, OpenProposal, Person, Said, read_requests

ROSTER = tuple(Person(e, n) for e, n in [
    ("marie.dubois@example.org", "Marie Dubois"),
    ("marie.lefevre@example.net", "Marie Lefèvre"),
    ("jpmartin@example.com", "Jean-Pierre Martin"),
    ("odette.garnier@example.net", "Odette Garnier"),
    ("lucien.roux@example.org", "Lucien Roux"),
    ("francoise.bernard@example.org", "Françoise Bernard"),
    ("gerard.petit@example.net", "Gérard Petit"),
    ("yvette.morel@example.com", "Yvette Morel"),
    ("maggie.thompson@example.com", "Maggie Thompson"),
    ("peter.hughes@example.org", "Peter Hughes"),
    ("dorothy.evans@example.net", "Dorothy Evans"),
    ("bill.carter@example.com", "Bill Carter"),
])
PROPOSALS = (
    OpenProposal(1, "Achat d'une remorque commune", "lucien.roux@example.org"),
    OpenProposal(2, "Fête de printemps le samedi 17 avril", "yvette.morel@example.com"),
    OpenProposal(3, "Cotisation annuelle à 10 euros à partir de janvier",
                 "francoise.bernard@example.org"),
    OpenProposal(4, "bourse aux plantes au jardin partagé le 13 mars", "gerard.petit@example.net"),
    OpenProposal(5, "Lower the minimum balance to -30 hours", "peter.hughes@example.org"),
    OpenProposal(6, "Permanence le mercredi matin à la médiathèque", "marie.dubois@example.org"),
    OpenProposal(7, "Tool library in the old garage, rue des Écoles", "bill.carter@example.com"),
)
ITEMS = (
    OpenItem(1, "offer", "Cours de tricot et de crochet", "odette.garnier@example.net", "couture"),
    OpenItem(2, "offer", "Petits travaux de jardinage, taille des haies", "jpmartin@example.com",
             "jardin"),
    OpenItem(3, "request", "Accompagnement chez le médecin le mardi matin",
             "yvette.morel@example.com", "transport\nje dois aller chez le kiné"),
    OpenItem(4, "offer", "English conversation for beginners", "maggie.thompson@example.com",
             "languages"),
    OpenItem(5, "request", "Help setting up my new tablet", "dorothy.evans@example.net",
             "computers"),
    OpenItem(6, "offer", "Prêt de perceuse et petit bricolage", "gerard.petit@example.net",
             "bricolage"),
    OpenItem(7, "request", "Garde de mon chat du 2 au 16 août", "marie.lefevre@example.net",
             "animaux"),
    OpenItem(8, "offer", "Confitures et gelées maison", "marie.dubois@example.org", "cuisine"),
)
KNOWN = Known(ROSTER, PROPOSALS, ITEMS, ("francoise.bernard@example.org",
                                          "peter.hughes@example.org"),
              list_addresses=("sel@example.org", "sel-request@example.org"))
NAMES = {p.email: p.name for p in ROSTER}


def first(body: str, subject: str = "", role: str = "request",
          sender: str = "gerard.petit@example.net", thread: int | None = None,
          known: Known = KNOWN) -> dict[str, Any]:
    said = Said(subject, body, role, sender, NAMES.get(sender, ""), thread, "[sel]")
    found = read_requests(said, known)
    return found[0].as_json() if found else {}


def check(got: dict[str, Any], action: str, args: dict[str, Any]) -> None:
    assert got.get("action") == action, got
    for key, value in args.items():
        assert got.get(key) == value, (key, got)


# (subject, body, action, args) at the request address, from Gérard unless said.
MEMBERSHIP = [
    ("adhésion", "Bonjour, je souhaiterais adhérer à votre SEL. Merci", "join", {}),
    ("", "Hello, I'd like to join the time bank please.", "join", {}),
    ("", "Bonjour, pourriez-vous inscrire mon amie Colette ? Son adresse : "
         "colette.b@example.com", "join", {"who": "colette.b@example.com"}),
    ("", "JE VEUX QUITTER LE SEL", "leave", {}),
    ("stop", "Merci de me rayer de la liste, je n'ai plus le temps.", "leave", {}),
    ("", "Please take me off the mailing list.", "leave", {}),
    ("", "je ne veux plus faire partie du sel, merci de m enlever", "leave", {}),
    ("vacances", "Je serai absente du 3 au 20 août, pouvez-vous suspendre mes mails ?",
     "nomail", {}),
    ("", "Could you hold my emails while I'm in hospital? Back in March.", "nomail", {}),
    ("pause", "", "nomail", {}),
    ("", "plus de mails pendant mes vacances s'il vous plait", "nomail", {}),
    ("", "je suis de retour, vous pouvez reprendre les envois", "mail", {}),
    ("", "I'm home again, please start sending the emails again.", "mail", {}),
    ("", "JE NE RECOIS PLUS LES MESSAGES DU SEL DEPUIS UN MOIS", "mail", {}),
    ("", "Je préférerais recevoir un résumé une fois par semaine.", "digest", {"mode": "weekly"}),
    ("", "Can I just get one email a day with everything in it?", "digest", {"mode": "daily"}),
    ("", "je voudrais le récapitulatif quotidien", "digest", {"mode": "daily"}),
    ("", "Plus de résumé svp, je veux recevoir les messages un par un comme avant",
     "digest", {"mode": "off"}),
    ("", "Est-ce que le robot peut me répondre en anglais ?", "language", {"language": "en"}),
    ("", "Please write to me in French from now on.", "language", {"language": "fr"}),
    ("", "I don't read French, English please", "language", {"language": "en"}),
]


@pytest.mark.parametrize(("subject", "body", "action", "args"), MEMBERSHIP)
def test_membership_families(subject: str, body: str, action: str, args: dict[str, Any]) -> None:
    sender = "germaine.fabre@example.net" if action == "join" else "gerard.petit@example.net"
    check(first(body, subject, sender=sender), action, args)


ACCOUNT = [
    ("", "Bonjour, je voudrais connaître mon solde. Merci", "balance", {}),
    ("", "combien d'heures il me reste ?", "balance", {}),
    ("", "What's my balance please?", "balance", {}),
    ("MON COMPTE", "OU J EN SUIS DE MES HEURES ?", "balance", {}),
    ("", "Pouvez-vous m'envoyer l'historique de mes échanges ?", "statement", {}),
    ("", "Could I have a list of my transactions?", "statement", {}),
    ("", "Qui fait partie du SEL ? Je voudrais la liste des adhérents", "members", {}),
    ("", "Could you send me the list of members?", "members", {}),
    ("", "Qu'est-ce qui est proposé en ce moment ?", "offers", {}),
    ("", "What's on offer at the moment?", "offers", {}),
    ("", "Quelles sont les demandes du moment ?", "requests", {}),
    ("", "Does anyone need help with anything? I have a free week.", "requests", {}),
    ("", "Y a-t-il des propositions en cours ?", "proposals", {}),
    ("", "What proposals are open at the moment?", "proposals", {}),
    ("", "Qu'est-ce qu'on a décidé l'an dernier ?", "decisions", {}),
    ("", "Which decisions were adopted this year?", "decisions", {}),
    ("", "Je ne comprends pas comment marche le robot, pouvez-vous m'aider ?", "help", {}),
    ("", "How does this work? What am I supposed to write?", "help", {}),
]


@pytest.mark.parametrize(("subject", "body", "action", "args"), ACCOUNT)
def test_account_and_listing_families(subject: str, body: str, action: str,
                                      args: dict[str, Any]) -> None:
    check(first(body, subject), action, args)


PAYMENTS = [
    ("", "Je voudrais payer 2 heures à Mme Dubois pour le repassage.",
     {"who": "marie.dubois@example.org", "points": 120}),
    ("", "j'ai payé 2 heures à Marie Lefevre pour le jardinage",
     {"who": "marie.lefevre@example.net", "points": 120}),
    ("", "PAYER YVETTE MOREL UNE HEURE ET DEMIE POUR LES COURSES",
     {"who": "yvette.morel@example.com", "points": 90}),
    ("", "merci de donner 45 minutes à Jean-Pierre pour la haie",
     {"who": "jpmartin@example.com", "points": 45}),
    ("", "Lucein m'a aidé 3h pour le déménagement, je voudrais le payer",
     {"who": "lucien.roux@example.org", "points": 180}),
    ("", "Please pay Maggie an hour and a half for the cakes.",
     {"who": "maggie.thompson@example.com", "points": 90}),
    ("", "I owe Peter half an hour for the lift to the station",
     {"who": "peter.hughes@example.org", "points": 30}),
    ("", "payer francoise bernard 1h30", {"who": "francoise.bernard@example.org", "points": 90}),
    ("", "Odette m'a fait un ourlet, je lui dois trois quarts d'heure",
     {"who": "odette.garnier@example.net", "points": 45}),
    ("paiement", "Bonjour, je dois 1 h à Monsieur Roux pour la tonte. Cordialement",
     {"who": "lucien.roux@example.org", "points": 60}),
    ("", "give Dorothy 2 hrs for the sewing", {"who": "dorothy.evans@example.net", "points": 120}),
    ("", "je voudrais verser 90 points à jean pierre martin",
     {"who": "jpmartin@example.com", "points": 90}),
    ("", "pay bill.carter@example.com 1h", {"who": "bill.carter@example.com", "points": 60}),
]


@pytest.mark.parametrize(("subject", "body", "args"), PAYMENTS)
def test_payments_in_words(subject: str, body: str, args: dict[str, Any]) -> None:
    check(first(body, subject), "pay", args)


def test_a_payment_keeps_its_memo_as_typed() -> None:
    got = first("Je voudrais payer 2 heures à Mme Dubois pour le repassage.")
    assert got["memo"] == "repassage"


UNCLEAR = [
    # two Maries
    ("Je dois une heure à Marie pour la couture", {"candidates": [
        "marie.dubois@example.org", "marie.lefevre@example.net"]}),
    # no amount
    ("Je voudrais payer Lucien pour le bois", {"who": "lucien.roux@example.org"}),
    # nobody on the roster
    ("payer Colette 2h", {}),
    # the worker declares hours: only the payer can pay
    ("J'ai tondu la pelouse de Mme Garnier pendant 2 heures", {
        "payer_named": "odette.garnier@example.net"}),
    ("I did 3 hours of gardening for Dorothy last week", {
        "payer_named": "dorothy.evans@example.net"}),
    # a statement line disputed
    ("Il y a une erreur sur mon relevé, je n'ai jamais payé 2h à Lucien", {}),
    # nothing a robot can do
    ("Il fait beau aujourd'hui, bonne journée à tous", {}),
]


@pytest.mark.parametrize(("body", "args"), UNCLEAR)
def test_what_must_be_asked_back(body: str, args: dict[str, Any]) -> None:
    got = first(body)
    check(got, "unclear", args)
    assert got["ask"]


def test_how_to_pay_without_a_name_or_amount_is_the_guide() -> None:
    check(first("Comment on fait pour payer quelqu'un ?"), "help", {})


def test_two_requests_typed_one_a_line_are_both_read() -> None:
    said = Said("aide", "solde\nrelevé\n", "request", "gerard.petit@example.net")
    assert [r.action for r in read_requests(said, KNOWN)] == ["help", "balance", "statement"]


ITEMS_AND_PROPOSALS = [
    # (body, sender, action, args)
    ("Je voudrais renouveler mon annonce de perceuse", "gerard.petit@example.net", "renew",
     {"item": 6}),
    ("Please keep my conversation offer going, I still have room.",
     "maggie.thompson@example.com", "renew", {"item": 4}),
    ("vous pouvez retirer mon offre de confitures, je n'en ai plus",
     "marie.dubois@example.org", "close", {"item": 8}),
    ("Mon chat sera gardé par ma soeur, vous pouvez supprimer la demande n°7",
     "marie.lefevre@example.net", "close", {"item": 7}),
    ("I no longer need help with the tablet, please close it.", "dorothy.evans@example.net",
     "close", {"item": 5}),
    ("Je retire ma proposition sur la remorque, on en reparlera.", "lucien.roux@example.org",
     "withdraw", {"proposal": 1}),
    ("Please withdraw proposal 7, the council changed its mind.", "bill.carter@example.com",
     "withdraw", {"proposal": 7}),
    ("Pourriez-vous prolonger ma proposition de 3 jours ?", "gerard.petit@example.net",
     "extend", {"proposal": 4, "duration": "3d"}),
    ("Can we have two more days on the tool library proposal?", "bill.carter@example.com",
     "extend", {"proposal": 7, "duration": "2d"}),
]


@pytest.mark.parametrize(("body", "sender", "action", "args"), ITEMS_AND_PROPOSALS)
def test_items_and_proposals_named_by_number_title_or_owner(
        body: str, sender: str, action: str, args: dict[str, Any]) -> None:
    check(first(body, sender=sender), action, args)


# At the list address: (subject, body, thread, action, args)
AT_THE_LIST = [
    ("Re: [sel] [PROPOSITION] Achat d'une remorque commune", "Je suis contre, trop cher.", 1,
     "object", {"proposal": 1}),
    ("Re: [sel] [PROPOSAL] Lower the minimum balance to -30 hours",
     "I really don't agree with this, it's far too much.", 5, "object", {"proposal": 5}),
    ("Re: Résumé du jour", "NON A LA 3, LES RETRAITES N ONT PAS LES MOYENS", None, "object",
     {"proposal": 3}),
    ("Re: [sel] [PROPOSITION] Fête de printemps le samedi 17 avril", "Bonne idée, je viendrai !",
     2, "support", {"proposal": 2}),
    ("Re: [sel] [PROPOSAL] Tool library in the old garage, rue des Écoles",
     "Great idea, count me in.", 7, "support", {"proposal": 7}),
    ("Re: Daily digest", "I support number 4, plants are always welcome.", None, "support",
     {"proposal": 4}),
    ("[PROPOSITION] Une sortie au marché de Noël", "Je propose qu'on y aille ensemble le 12.",
     None, "propose", {}),
    ("Idée pour le SEL", "Je propose que nous achetions une tondeuse commune.", None, "propose",
     {}),
    ("[OFFRE] Repassage", "Je peux faire votre repassage le lundi.", None, "offer_item", {}),
    ("Leçons de piano", "Je peux donner des cours de piano aux enfants, n'hésitez pas.", None,
     "offer_item", {}),
    ("Lifts to the market", "I can drive anyone to the Saturday market, just ask.", None,
     "offer_item", {}),
    ("Recherche", "Je cherche quelqu'un pour tondre ma pelouse au printemps.", None,
     "request_item", {}),
    ("Wanted: someone to help with my garden", "Could anyone help me clear the garden?", None,
     "request_item", {}),
    ("désinscription", "Merci de me désinscrire.", None, "administrivia", {"intent": "leave"}),
    ("mes heures", "Combien j'ai d'heures sur mon compte ?", None, "administrivia",
     {"intent": "balance"}),
    ("Re: [sel] Covoiturage", "Je peux prendre deux personnes samedi.", None, None, {}),
    ("Loto samedi", "Qui vient au loto de l'école samedi ? On pourrait y aller ensemble.", None,
     None, {}),
    ("Re: [sel] [PROPOSITION] Achat d'une remorque commune",
     "Qui va la ranger ? Je demande avant de donner mon avis.", 1, None, {}),
]


@pytest.mark.parametrize(("subject", "body", "thread", "action", "args"), AT_THE_LIST)
def test_at_the_list_address(subject: str, body: str, thread: int | None, action: str | None,
                             args: dict[str, Any]) -> None:
    got = first(body, subject, role="post", sender="yvette.morel@example.com", thread=thread)
    if action is None:
        assert got == {}, got
    else:
        check(got, action, args)


MODERATORS = [
    ("Oui, ça peut partir.", "approve"),
    ("OK pour moi", "approve"),
    ("Yes, let it through please.", "approve"),
    ("Non, c'est de la publicité.", "reject"),
    ("Refusé : ce n'est pas un membre.", "reject"),
    ("No, he isn't a member.", "reject"),
    ("Poubelle, c'est du spam.", "discard"),
    ("Just delete it, it's spam.", "discard"),
]


@pytest.mark.parametrize(("body", "action"), MODERATORS)
def test_a_moderator_answering_a_held_post_notice(body: str, action: str) -> None:
    subject = "Re: Message à modérer n°4 : Bonjour (SEL de Saint-Martin)"
    got = first(body, subject, role="confirm", sender="francoise.bernard@example.org")
    check(got, action, {"hold": 4})


def test_a_reason_is_kept_for_a_rejection() -> None:
    got = first("No, he isn't a member.", "RE: Message to moderate no. 9: Ramonage",
                role="confirm", sender="peter.hughes@example.org")
    assert got["reason"] == "he isn't a member"


# Whole messages (greetings, signatures, quotes): (role, sender, subject, body, thread,
# action or None for a plain post, args)
MESSAGES = [
    ('request',
     'odette.garnier@example.net',
     'merci',
     "Bonjour,\n\nMarie Dubois m'a gardé mon chat pendant une semaine, c'était très gentil. Je "
     'voudrais lui donner 3 heures.\n\nBonne journée\nOdette',
     '',
     'pay',
     {'who': 'marie.dubois@example.org', 'points': 180}),
    ('request',
     'yvette.morel@example.com',
     'paiement',
     'Je voudrais payer Lucien. Il a travaillé deux heures dans mon jardin samedi.\nYvette',
     '',
     'pay',
     {'who': 'lucien.roux@example.org', 'points': 120}),
    ('request',
     'bill.carter@example.com',
     '',
     'Hi there,\nCould you transfer 1.5 hours to Gerard Petit for fixing my fence?\nCheers\nBill',
     '',
     'pay',
     {'who': 'gerard.petit@example.net', 'points': 90}),
    ('request',
     'lucien.roux@example.org',
     '',
     'PAYER MME GARNIER 30 MINUTES',
     '',
     'pay',
     {'who': 'odette.garnier@example.net', 'points': 30}),
    ('request',
     'dorothy.evans@example.net',
     'Payment',
     'Please can you pay Jean-Pierre one hour for the maths lesson with my grandson. Thank '
     'you, Dorothy',
     '',
     'pay',
     {'who': 'jpmartin@example.com', 'points': 60}),
    ('request',
     'marie.lefevre@example.net',
     '',
     'bonjour je voudrais regler 1h15 a yvette pour le covoiturage merci',
     '',
     'pay',
     {'who': 'yvette.morel@example.com', 'points': 75}),
    ('request',
     'gerard.petit@example.net',
     '',
     "Francoise m'a conduit a l'hopital, ça fait deux heures. Merci de la payer de ma part.",
     '',
     'pay',
     {'who': 'francoise.bernard@example.org', 'points': 120}),
    ('request',
     'maggie.thompson@example.com',
     '',
     'I need to pay Odette for the alterations - 45 mins please',
     '',
     'pay',
     {'who': 'odette.garnier@example.net', 'points': 45}),
    ('request',
     'peter.hughes@example.org',
     '',
     'Pay Marie Lefevre 2h for the cat sitting.',
     '',
     'pay',
     {'who': 'marie.lefevre@example.net', 'points': 120}),
    ('request',
     'jpmartin@example.com',
     '',
     "Bonjour,\nJe souhaite créditer Gérard d'une heure pour le prêt de sa perceuse.\n"
     'Cordialement,\nJean-Pierre Martin',
     '',
     'pay',
     {'who': 'gerard.petit@example.net', 'points': 60}),
    ('request',
     'yvette.morel@example.com',
     'Re: Réponse à votre message',
     'je veux payer marie pour les confitures, 1 heure\n\n> Bonjour,\n> Voici vos derniers '
     'échanges',
     '',
     'unclear',
     {}),
    ('request',
     'sophie.garnier@example.com',
     'ma mère',
     "Bonjour, je suis la fille d'Odette Garnier. Ma mère est hospitalisée pour un mois, "
     'pouvez-vous arrêter de lui envoyer les mails du SEL en attendant ? Merci, Sophie',
     '',
     'nomail',
     {'who': 'odette.garnier@example.net'}),
    ('request',
     'robert.lemoine@example.com',
     'SEL',
     "Bonjour, j'habite Saint-Martin depuis peu et j'aimerais participer au SEL. Comment faire "
     '? Robert Lemoine',
     '',
     'join',
     {}),
    ('request',
     'sheila.ward@example.com',
     '',
     'Hello, my neighbour Maggie told me about your exchange group. Can I become a member? Sheila',
     '',
     'join',
     {}),
    ('request',
     'lucien.roux@example.org',
     '',
     'Bonjour, je ne veux plus recevoir les messages du SEL, je ne participe plus. Lucien',
     '',
     'leave',
     {}),
    ('request',
     'maggie.thompson@example.com',
     '',
     "I'm moving back to England in March so please unsubscribe me. It's been lovely! Maggie",
     '',
     'leave',
     {}),
    ('request',
     'gerard.petit@example.net',
     '',
     'je pars 15 jours chez mon fils, mettez moi en pause svp',
     '',
     'nomail',
     {}),
    ('request',
     'dorothy.evans@example.net',
     '',
     'Back from hospital! Please send me the emails again.',
     '',
     'mail',
     {}),
    ('request',
     'odette.garnier@example.net',
     '',
     'JE SUIS REVENUE, VOUS POUVEZ REMETTRE LES MAILS',
     '',
     'mail',
     {}),
    ('request',
     'marie.dubois@example.org',
     '',
     'Trop de messages ! Je voudrais tout recevoir en une seule fois le soir.',
     '',
     'digest',
     {'mode': 'daily'}),
    ('request',
     'bill.carter@example.com',
     '',
     'Weekly digest please.',
     '',
     'digest',
     {'mode': 'weekly'}),
    ('request',
     'jpmartin@example.com',
     '',
     "Bonjour, pourriez-vous m'envoyer un résumé hebdomadaire plutôt que tous les messages ?",
     '',
     'digest',
     {'mode': 'weekly'}),
    ('request',
     'francoise.bernard@example.org',
     '',
     'Bonjour, pouvez-vous me répondre en français maintenant ? Merci',
     '',
     'language',
     {'language': 'fr'}),
    ('request', 'gerard.petit@example.net', '', "c'est quoi mon solde ?", '', 'balance', {}),
    ('request', 'bill.carter@example.com', '', 'how many points do i have', '', 'balance', {}),
    ('request',
     'yvette.morel@example.com',
     '',
     'Bonjour, est-ce que je suis en positif ou en négatif ? Yvette',
     '',
     'balance',
     {}),
    ('request',
     'peter.hughes@example.org',
     '',
     'Could you send me my statement for the last few months?',
     '',
     'statement',
     {}),
    ('request',
     'maggie.thompson@example.com',
     '',
     'Who offers gardening help at the moment?',
     '',
     'offers',
     {}),
    ('request',
     'lucien.roux@example.org',
     '',
     "Bonjour, y a-t-il quelqu'un qui fait du jardinage dans le SEL ?",
     '',
     'offers',
     {}),
    ('request',
     'gerard.petit@example.net',
     '',
     "est ce qu'il y a des gens qui ont besoin d'aide en ce moment",
     '',
     'requests',
     {}),
    ('request',
     'gerard.petit@example.net',
     'Re: renouveler 6 ? Votre offre « Prêt de perceuse et petit bricolage » expire le 3 janvier',
     'oui\n\n> Votre offre n°6 « Prêt de perceuse et petit bricolage » ne sera plus visible '
     'après le 3 janvier 2027.',
     '',
     'renew',
     {'item': 6}),
    ('request',
     'dorothy.evans@example.net',
     'Re: renew 5? Your request "Help setting up my new tablet" expires on 3 January',
     'Yes please keep it, nobody has come yet.\n\n> Your request no. 5 "Help setting up my new '
     'tablet" will no longer be visible',
     '',
     'renew',
     {'item': 5}),
    ('request',
     'odette.garnier@example.net',
     '',
     "BONJOUR, MON ANNONCE TRICOT N'EST PLUS D'ACTUALITE, MERCI DE L ENLEVER",
     '',
     'close',
     {'item': 1}),
    ('request',
     'marie.lefevre@example.net',
     'Re: renouveler 7 ? Votre demande « Garde de mon chat du 2 au 16 août » expire',
     "Non merci c'est réglé, ma soeur gardera le chat.\n\n> Votre demande n°7 « Garde de mon "
     'chat du 2 au 16 août » ne sera plus visible',
     '',
     'close',
     {'item': 7}),
    ('request',
     'marie.dubois@example.org',
     '',
     'Je souhaite retirer ma proposition de permanence à la médiathèque.',
     '',
     'withdraw',
     {'proposal': 6}),
    ('request',
     'yvette.morel@example.com',
     '',
     "Pouvez-vous repousser la date de la fête de printemps d'une semaine, pour la décision ?",
     '',
     'extend',
     {'proposal': 2}),
    ('request',
     'marie.dubois@example.org',
     '',
     "qu'est-ce qu'il y a à voter en ce moment ?",
     '',
     'proposals',
     {}),
    ('request',
     'bill.carter@example.com',
     '',
     'What did the group decide about the trailer?',
     '',
     'decisions',
     {}),
    ('request',
     'gerard.petit@example.net',
     '',
     'je comprends rien à ce robot, il faut écrire quoi ?',
     '',
     'help',
     {}),
    ('request',
     'odette.garnier@example.net',
     '',
     'BONJOUR QUI SONT LES PERSONNES INSCRITES ?',
     '',
     'members',
     {}),
    ('request',
     'gerard.petit@example.net',
     '',
     "J'ai fait 1h30 de bricolage chez Bill hier, il faut qu'il me paye",
     '',
     'unclear',
     {'payer_named': 'bill.carter@example.com'}),
    ('request', 'lucien.roux@example.org', '', 'payer marie 2h', '', 'unclear', {}),
    ('request',
     'yvette.morel@example.com',
     '',
     'Bonjour, je voudrais payer Jean-Pierre pour la taille de ma haie mais je ne sais pas '
     'combien',
     '',
     'unclear',
     {'who': 'jpmartin@example.com'}),
    ('post',
     'lucien.roux@example.org',
     'Re: [sel] [PROPOSITION] Cotisation annuelle à 10 euros à partir de janvier',
     "OBJECTION : c'est trop pour les petites retraites.",
     3,
     'object',
     {'proposal': 3}),
    ('post',
     'odette.garnier@example.net',
     'Re: [sel] [PROPOSITION] Fête de printemps le samedi 17 avril',
     "D'ACCORD. JE FERAI UN GATEAU",
     2,
     'support',
     {'proposal': 2}),
    ('post',
     'maggie.thompson@example.com',
     'Re: Daily digest',
     'Proposal 1: I object, we have nowhere to keep a trailer.',
     None,
     'object',
     {'proposal': 1}),
    ('post',
     'gerard.petit@example.net',
     'Re: [sel] [PROPOSAL] Lower the minimum balance to -30 hours',
     "moi je suis pas d'accord, c'est trop",
     5,
     'object',
     {'proposal': 5}),
    ('post',
     'marie.lefevre@example.net',
     'Re: [sel] [PROPOSITION] Permanence le mercredi matin à la médiathèque',
     "Très bonne idée Marie, je pourrai venir t'aider un mercredi sur deux.",
     6,
     'support',
     {'proposal': 6}),
    ('post',
     'bill.carter@example.com',
     "Re: [sel] [PROPOSITION] Achat d'une remorque commune",
     'Sounds good to me.',
     1,
     'support',
     {'proposal': 1}),
    ('post',
     'jpmartin@example.com',
     "Re: [sel] [PROPOSITION] Achat d'une remorque commune",
     'Combien coûterait-elle ? Et où serait-elle garée ?',
     1,
     None,
     {}),
    ('post',
     'yvette.morel@example.com',
     'Proposition : nettoyage du lavoir',
     'Bonjour à tous, je propose une matinée de nettoyage du lavoir le 5 avril. Yvette',
     None,
     'propose',
     {}),
    ('post',
     'peter.hughes@example.org',
     'Proposal: annual picnic in June',
     'I propose we hold a picnic for all members in June.',
     None,
     'propose',
     {}),
    ('post',
     'odette.garnier@example.net',
     'TRICOT',
     'BONJOUR A TOUS, JE PEUX APPRENDRE LE TRICOT A CEUX QUI VEULENT, LE MARDI APRES MIDI. ODETTE',
     None,
     'offer_item',
     {}),
    ('post',
     'maggie.thompson@example.com',
     'English lessons',
     "Hello everyone, I'm offering English conversation practice, an hour a week, for anyone "
     "who'd like it.",
     None,
     'offer_item',
     {}),
    ('post',
     'lucien.roux@example.org',
     "Besoin d'aide",
     "J'aurais besoin d'un coup de main pour déplacer une armoire samedi matin. Merci d'avance",
     None,
     'request_item',
     {}),
    ('post',
     'dorothy.evans@example.net',
     'Lift to the doctor',
     "Could someone give me a lift to the doctor's on Tuesday? Dorothy",
     None,
     'request_item',
     {}),
    ('post',
     'gerard.petit@example.net',
     'pause',
     'mettez moi en pause svp je pars en vacances',
     None,
     'administrivia',
     {'intent': 'nomail'}),
    ('post',
     'jpmartin@example.com',
     'Désinscription',
     'Bonjour, merci de me retirer de la liste du SEL. Cordialement, Jean-Pierre Martin',
     None,
     'administrivia',
     {'intent': 'leave'}),
    ('post',
     'bill.carter@example.com',
     "Re: [sel] Quiz night at the Lion d'Or",
     'Count me in! See you there.',
     None,
     None,
     {}),
    ('post',
     'marie.dubois@example.org',
     'Merci à tous',
     "Merci à tous pour la belle fête de dimanche, c'était très réussi !",
     None,
     None,
     {}),
    ('post',
     'yvette.morel@example.com',
     'Chien perdu',
     "Bonjour, quelqu'un a-t-il vu un petit chien blanc près de la mairie ? Il s'appelle Pompon.",
     None,
     None,
     {}),
    ('confirm',
     'francoise.bernard@example.org',
     'Re: Message à modérer n°8 : Vente de bois',
     'Non, pas de vente sur la liste.',
     '',
     'reject',
     {'hold': 8}),
    ('confirm',
     'peter.hughes@example.org',
     'RE: Message to moderate no. 10: Hello',
     'Approve',
     '',
     'approve',
     {'hold': 10}),
    ('confirm',
     'francoise.bernard@example.org',
     'Re: Message à modérer n°2 : Réponse automatique',
     'on peut le jeter',
     '',
     'discard',
     {'hold': 2}),
    ('confirm',
     'peter.hughes@example.org',
     'RE: Message to moderate no. 6: Loto',
     "Fine by me, it's for the school.",
     '',
     'approve',
     {'hold': 6}),
]


@pytest.mark.parametrize(("role", "sender", "subject", "body", "thread", "action", "args"),
                         MESSAGES)
def test_whole_messages(role: str, sender: str, subject: str, body: str, thread: int | str,
                        action: str | None, args: dict[str, Any]) -> None:
    got = first(body, subject, role=role, sender=sender, thread=thread or None)
    if action is None:
        assert got == {}, got
    else:
        check(got, action, args)
