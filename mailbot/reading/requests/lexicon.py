"""The phrase families members use, French and English, as data: for each action, patterns
over a `plain` sentence (lowercase, no accents, elisions restored, hyphens as spaces) with a
weight (3: says it alone; 2: nearly; 1: a hint that adds up). Patterns name families of
phrasing ("me retirer de la liste", "take me off"), never one message.
"""



def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Pieces reused below.
_ME = r"(?:me|m')"
_MAILS = r"(?:mails?|e ?mails?|messages?|courriels?|envois?)"
_EMAILS_EN = r"(?:e ?mails?|mails?|messages?|posts?)"
_ITEM_FR = r"(?:annonces?|offres?|demandes?)"
_ITEM_EN = r"(?:offers?|requests?|ads?|adverts?|listings?|notices?)"
_MY_FR = r"(?:mon|ma|mes|l'|la|le|cette|cet|ce)"

# A question about a topic ("qui est inscrit ?", "y a quoi comme offres ?", "Could I see the
# list of decisions?"): a sentence that asks (a "?" or an asking word first) and names it.
ASKING = (r"^(?:qui|quoi|quel\w*|combien|est ce|y a|ya|what|who|which|how many|how much|"
          r"(?:can|could|may) (?:i|we|you)|(?:please )?(?:send|show)|envoy\w*|montr\w*|"
          r"je (?:voudrais|veux|souhaite|aimerais) (?:voir|savoir|connaitre|la liste|le|les)|"
          r"i'?d like (?:to see|to know|the)|pourriez vous|pouvez vous)\b")
TOPICS = {
    "members": r"\b(?:membres?|inscrite?s?|adherente?s?|members?|participants?)\b",
    "balance": r"\b(?:solde|mes heures|mes points|balance|credit|my hours|my points)\b",
    "statement": r"\b(?:releve|historique|mes echanges|history|statement|transactions)\b",
    "offers": r"\b(?:offres?|offers?|services|on offer|annonces|proposent|propose(?! au vote))\b",
    "requests": r"\b(?:demandes?|requests?|demande de l'aide|besoin d'aide|asking for|need help)\b",
    "proposals": r"\b(?:propositions?|proposals?|en discussion|a voter|vote on|up for)\b",
    "decisions": (r"\b(?:decisions?(?! a prendre| en cours| en attente)|decide|adopte|register|"
                  r"registre)\b"),
    "charter": (r"\b(?:charte|reglement|regles|charter|(?:list|group) rules|house rules|"
                r"code of conduct)\b"),
}


INTENTS: dict[str, tuple[tuple[int, str], ...]] = {
    "join": (
        (3, r"\b(?:m'inscrire|m'abonner|adherer|devenir (?:membre|adherente?)|faire partie "
            r"(?:du|de votre|de la|de vos)|rejoindre (?:le|votre|la|vos)|inscrivez moi|"
            r"(?:pouvez|pourriez|voulez) vous (?:l'|les )?inscrire|inscrire (?:ma|mon|mes|notre)"
            r"|l'inscrire|les inscrire|nouvelle? (?:inscrite?|adherente?)|(?:en|"
            r"y) faire partie)\b"),
        (3, r"\b(?:join (?:the|your|this|you)\b|(?:like|want|love) to join\b(?! us)|"
            r"(?:how|can) (?:do |can )?(?:i|we) join|sign (?:me|us|him|her) up|subscribe\b|"
            r"become (?:a )?members?|add me (?:to|on)|put me on (?:the|your) list)"),
        (2, r"\b(?:inscription|inscrire|participer (?:au|a votre|a la|a vos|aux)|take part in|"
            r"get involved|sign(?:ing)? (?:\w+ )?up|add me|be added)\b"),
        (1, r"\b(?:je suis nouvelle?|nouvelle? (?:dans|au|a) |i'?m new|new (?:to|in) (?:the|this|"
            r"saint)|just moved)\b"),
    ),
    "leave": (
        (3, rf"\b(?:{_ME} ?desinscri\w*|desinscri\w*|{_ME} retirer (?:de|du|des)|retirez moi|"
            rf"enlevez moi|{_ME} ?(?:rayer|enlever)|rayez moi|supprimez moi|{_ME} supprimer "
            rf"(?:de|du)|quitter (?:le|la|votre|vos)|plus (?:faire partie|etre (?:membre|"
            rf"inscrite?))|"
            rf"(?:resilier|annuler|arreter) mon (?:inscription|adhesion|abonnement)|"
            rf"{_ME} desabonner|desabonn\w*)"),
        (3, r"\b(?:unsubscribe|remove me|take me off|leave (?:the|this|your) (?:list|group|"
            r"sel|association)|cancel my (?:membership|subscription)|delete me|i want out|"
            r"(?:remove|delete|take) my (?:e ?mail |mail )?(?:address|name|email)|"
            r"no longer (?:be )?(?:a )?member|(?:want|like) to leave|mettre (?:fin|un terme) "
            r"(?:a|au) (?:mon|ma)|end my (?:membership|subscription))\b"),
        (2, r"\b(?:ne |n')?(?:veux|souhaite|desire|voudrais) plus (?:rien |de \w+ )?recevoir\b|"
            r"\b(?:ne|n') ?(?:\w+ )?plus (?:participer|participe)\b|\bno longer (?:want|"
            r"wish) to (?:receive|"
            r"get|be)\b"),
        (1, r"\b(?:demenag\w*|maison de retraite|ehpad|moving (?:away|house|to|back)|"
            r"i'?m leaving)\b"),
    ),
    "nomail": (
        (3, r"\b(?:pause|mettre en pause|suspendre|suspendez|suspension|interrompre)\b"),
        (3, rf"\b(?:stop|arretez|stoppez) (?:les|ces|tous ces|vos) {_MAILS}\b"),
        (3, rf"\b(?:arreter|arretez|stopper|stoppez|cesser|cessez) (?:de )?(?:{_ME} ?envoyer|"
            rf"(?:lui|leur|nous) envoyer|les {_MAILS}|d'envoyer)"),
        (2, rf"\bne plus (?:{_ME} ?envoyer|envoyer|recevoir)"),
        (2, r"\b(?:pendant (?:ce temps|mon absence|ma cure|les vacances|mes vacances|"
            r"mon sejour|mon hospitalisation|son absence|son sejour)|jusqu'a (?:mon|son) retour|"
            r"en attendant|"
            r"je (?:pars|serai absente?|m'absente|serai a l'hopital)|"
            r"(?:du|a partir du) \d{1,2} (?:au|jusqu'au) \d{1,2})\b"),
        (3, r"\bstop (?:e ?mailing|mailing|writing to|sending) me\b"),
        (3, rf"\b(?:stop (?:sending (?:me )?)?(?:all )?(?:the |my |these |those |your )?"
            rf"(?:{_EMAILS_EN}|mail)|hold (?:my|the) "
            rf"(?:{_EMAILS_EN}|mail)|(?:suspend|pause) (?:my )?(?:{_EMAILS_EN}|mail|delivery|"
            rf"subscription)|nomail|no more {_EMAILS_EN} (?:for a while|until))\b"),
        (3, rf"\b(?:(?:don'?t|do not|please stop) send(?:ing)? me (?:anything|any (?:more )?"
            rf"{_EMAILS_EN}|{_EMAILS_EN})|ne m'envoyez (?:rien|plus|pas)|n'envoyez plus)\b"),
        (3, rf"\bno (?:more )?{_EMAILS_EN} (?:please|for|until|while|till)\b"),
        (2, r"\b(?:for a month|for (?:two|three|\d+) (?:weeks|months)|pour (?:un|deux|"
            r"trois|quelques|\d+) (?:mois|semaines))\b"),
        (2, r"\b(?:until (?:the )?(?:\d|mid|end|early|next|after|january|february|march|april|"
            r"may|june|july|august|september|october|november|december)|jusqu'(?:au|a la|a "
            r"(?:mi|fin|debut))|until i'?m back|while i'?m away|until i (?:get|come) back|"
            r"i'?m (?:away|off) "
            r"|for a (?:while|few weeks)|away for|on holiday|on vacation|while i'?m in)\b"),
        (1, r"\b(?:en vacances|en cure|hopital|hospital\w*|hospitalisee?)\b"),
    ),
    "mail": (
        (3, rf"\b(?:reprise|reprendre (?:les|l'envoi|mes|la reception)|recevoir (?:a nouveau|"
            rf"de nouveau|les {_MAILS} comme avant|comme avant)|je (?:suis|serai) "
            rf"(?:rentree?|de retour|revenue?)|renvoyer les {_MAILS}|remettre (?:les|l'envoi)|"
            rf"reactiver|re ?recevoir)\b"),
        (2, rf"\b(?:je ne recois plus|(?:ne|n') ?recois plus|je recois plus (?:rien|aucun|de)|"
            rf"plus rien (?:recu|depuis)|"
            rf"je n'ai (?:plus|rien) recu|(?:ne|n') ?ai plus de {_MAILS})"),
        (3, rf"\b(?:(?<!until )(?<!till )(?<!when )(?<!once )i'?m (?:back|home)(?! to)|(?:home|"
            rf"back) again|back from|(?:start|restart|resume|turn on|switch on|send) (?:\w+ "
            rf"){{0,2}}{_EMAILS_EN}(?: (?!\d)\w+)? (?:again|back on)|(?:turn|switch|put) "
            rf"(?:it|them) back on|haven'?t (?:had|got|received) any {_EMAILS_EN}|"
            rf"(?:e ?mails?|mail|messages) back on|start (?:sending|the {_EMAILS_EN}) again|resume "
            rf"(?:my |the )?(?:{_EMAILS_EN}|mail|delivery)|(?:send|receive|get) (?:me )?"
            rf"(?:the )?{_EMAILS_EN} again|turn (?:the )?(?:{_EMAILS_EN}|mail) back on|"
            rf"not (?:getting|receiving) (?:any )?{_EMAILS_EN}|stopped (?:getting|receiving))\b"),
    ),
    "digest": (
        (3, rf"\b(?:resume (?:quotidien|hebdomadaire|du jour|de la semaine|par (?:jour|semaine))"
            rf"|resumer (?:quotidien|hebdomadaire)|recapitulatif|(?:un|une) (?:seule? )?"
            rf"(?:{_MAILS}|fois) par (?:jour|semaine)|"
            rf"regroup\w*|digest|chaque {_MAILS}|au fur et a mesure|(?:un|le) resume|"
            rf"(?:plus|pas) de resume|un par un|one by one|en une (?:seule )?fois|"
            rf"(?:all|everything) (?:at|in) once)\b"),
        (1, r"\bresume\b"),
        (3, rf"\b(?:once a (?:day|week)|one {_EMAILS_EN} a (?:day|week)|daily|weekly|"
            rf"(?:each|every) (?:single )?(?:{_EMAILS_EN}|one)|as they (?:come|arrive)|"
            rf"summary|round ?up)\b"),
        (1, rf"\b(?:trop de {_MAILS}|too many {_EMAILS_EN}|the volume)\b"),
    ),
    "language": (
        (3, r"\b(?:en (?:anglais|francais)|in (?:english|french)|(?:langue|language) "
            r"(?:anglaise|francaise|english|french|fr|en)|(?:set|change|switch) (?:my |the )?"
            r"language|(?:mettre|changer|passer) (?:ma |la )?langue)\b"),
        (2, r"\b(?:english|french|anglais|francais) (?:please|svp|s'il vous plait|merci)\b|"
            r"\b(?:i (?:don'?t|do not|can'?t|cannot) (?:read|speak|understand)|je ne (?:lis|"
            r"parle|comprends) pas) (?:much |very well )?(?:l'|le )?(?:english|french|anglais|"
            r"francais)\b"),
        (1, r"\b(?:langue|language|english|french|anglais|francais)\b"),
    ),
    "help": (
        (3, r"\b(?:comment (?:ca|cela|tout ca|\w+ \w+|\w+) (?:marche|fonctionne)|comment "
            r"(?:marche|fonctionne) (?:le|la|les|ce|cette|votre|ton)|"
            r"je (?:n'ai|ai) rien compris|(?:je |j'y )(?:ne |n'y )?comprends? rien|"
            r"il faut (?:ecrire|faire|"
            r"mettre) quoi|qu'est ce qu'il faut (?:ecrire|faire)|que (?:dois je|faut il) "
            r"(?:ecrire|faire)|besoin d'aide pour (?:utiliser|comprendre)|mode d'emploi|"
            r"aidez moi|au secours|je suis perdue?|je ne sais pas (?:comment|quoi) (?:faire|on "
            r"fait|ecrire)|(?:quelles sont|c'est quoi|quels sont) les (?:commandes|mots|"
            r"instructions))\b"),
        (3, r"\b(?:a quoi (?:sert|servent) (?:cette|ce|le|la|les)|what is (?:the|this) (?:robot|"
            r"bot|address) for|what'?s (?:the|this) (?:robot|bot|address) for|how am i (?:meant|"
            r"supposed) to|"
            r"how (?:do i|to) use (?:it|this|the)|how does (?:this|it|the \w+) work|"
            r"i (?:don'?t|do not) understand (?:how|what|the)|what (?:can|do|should) i (?:do|"
            r"write|send)|(?:the|list of) commands|i'?m (?:lost|confused))\b"),
        (1, r"^(?:aide|help)\b|\b(?:comprends pas|don'?t understand|m'expliquer|explain)\b"),
        (2, r"\b(?:(?:pouvez|pourriez) vous m'(?:aider|expliquer)|aidez moi|(?:can|could) you "
            r"(?:help|explain)|help me|je n'arrive pas a (?:utiliser|comprendre|m'en servir)|"
            r"(?:i )?can'?t (?:use|work out|figure out|get the hang))\b"),
    ),
    "members": (
        (3, r"\b(?:(?:qui sont|liste des|la liste des|tous les|les noms des|annuaire des?|"
            r"coordonnees des) (?:les )?(?:membres?|adherente?s|inscrite?s|participante?s|"
            r"personnes(?: inscrites)?|gens)|qui fait partie (?:du|de la|de notre|de ce)|"
            r"combien (?:sommes nous|de membres|d'adherents|d'inscrits|on est|nous sommes)|"
            r"(?:nouveaux|nouvelles) (?:membres|adherents?|inscrits?)|qui sont les nouveaux|"
            r"l'adresse (?:mail |e ?mail |electronique )?de|les adresses)\b"),
        (3, r"\b(?:who(?:'s| is| are)? (?:on|in) (?:the|this|our) (?:list|group|sel)|who (?:the|"
            r"our) members are|who belongs|(?:list|names)"
            r" of (?:the )?members|member(?:ship)? list|how many (?:of us|members|people)|"
            r"new members|(?:e ?mail )?address(?:es)? (?:of|for))\b"),
        (1, r"\b(?:membres|members)\b"),
    ),
    "balance": (
        (3, r"\b(?:mon solde|le solde|solde de mon compte|combien (?:j'ai|ai je|il me reste|"
            r"me reste t il|d'heures|de points)|(?:mes|combien de) (?:points|heures) (?:sur|en|"
            r"dans|j'ai|il me)|ou j'en suis|mon compte (?:temps|d'heures)|(?:mon|le) credit)\b"),
        (3, r"\b(?:my balance|how many (?:hours|points|credits) (?:have i|do i|i have|i'?ve)|in "
            r"the bank|ou en (?:est|sont) (?:mon compte|mon solde|mes heures|mes points)|"
            r"where do i stand|how much (?:time|credit) (?:have i|do i)|(?:voir|"
            r"connaitre|savoir|consulter|check) (?:mon solde|mes heures|mes points|mon compte|"
            r"my balance|my hours)|en (?:positif|"
            r"negatif)|dans le rouge|in the (?:red|black)|in (?:credit|debit))\b"),
        (1, r"\b(?:solde|balance|mes points|mes heures|my points|my hours)\b"),
    ),
    "statement": (
        (3, r"\b(?:releve|historique|detail (?:de mes|des) (?:echanges|operations|heures)|"
            r"mes (?:derniers )?(?:echanges|operations|mouvements|transactions)|"
            r"statement|history|my transactions|(?:list of|recent) (?:my )?(?:exchanges|"
            r"transactions|payments)|(?:list|record|history) of (?:what|everything) i'?ve "
            r"(?:paid|received|given|done)|what i'?ve (?:paid|given) and (?:received|got))\b"),
    ),
    "pay": (
        (3, r"(?<!\bme )(?<!\bm')\b(?:payer|payez|paye|paie|regler|reglez|verser|versez|virer|"
            r"virez|transferer|transferez|crediter|creditez|rembourser|j'ai paye|je regle)\b"),
        (3, r"\bje (?:lui |leur |vous )?doi[st]\b|\bje dois (?:donner|payer)\b"),
        (3, r"\b(?:pay|(?<!what i've )(?<!what i have )(?<!what i )paid|transfer|credit|i owe|"
            r"owe (?!me))\b"),
        (1, r"\b(?:donner|donnez|give|(?:send|envoyer|envoyez)(?! me\b| moi\b)|passer|paiement|"
            r"payment|virement|reglement)\b"),
        (2, r"\b(?:a|ont|has|have) (?:\w+ )?(?:raccourci|repare|taille|tondu|garde|nettoye|cousu|"
            r"installe|porte|conduit|promene|fait|fixed|mowed|cleaned|mended|repaired|walked) "
            r"(?:mes|ma|mon|nos|notre|my|our)\b"),
        (2, r"\b(?:m'a|nous a) (?:aidee?|emmenee?|conduite?|fait|depannee?|rendu service|"
            r"accompagnee?|repare|tondu|taille|garde|passe|coupe|installe|porte)\b|"
            r"\b(?:helped me|drove me|did (?:\w+ )*for me|fixed my|mowed my)\b"),
    ),
    "offers": (
        (3, r"\b(?:(?:quelles sont|liste des|la liste des|voir les|les) (?:offres|annonces)|"
            r"offres (?:en cours|du moment|actuelles|disponibles)|ce qui est (?:propose|offert)|"
            r"qu'est ce qu'on peut echanger|"
            r"(?:quelqu'un|qui|des gens|personne) (?:qui )?(?:propose|offre|(?:fait|sait faire|"
            r"peut faire) (?:du|de la|des|de l')|s'y connait)|what(?:'s| is) (?:on )?offer(?:ed)?|"
            r"(?:list of|current|the) offers|who (?:offers|can do|does)|anyone offer(?:ing|s))\b"),
        (1, r"\b(?:offres|offers)\b"),
    ),
    "requests": (
        (3, r"\b(?:(?:quelles sont|liste des|la liste des|voir les|les) demandes|demandes "
            r"(?:en cours|du moment|actuelles)|(?:quelqu'un|qui|des gens|des personnes|d'autres) "
            r"(?:qui )?(?:a|ont|aurai(?:en)?t) besoin (?:de quelque chose|d'aide|de moi|d'un coup "
            r"de main|de mes services)|qui cherche|(?:what|which) requests|what do "
            r"(?:people|members) need|(?:list of|current|the) requests|(?:what|who) (?:are|is) "
            r"(?:people|members|anyone|somebody) (?:asking for|looking for|needing)|what(?:'s| "
            r"is) (?:being )?(?:asked|requested|wanted)|who needs (?:help|anything|something|a "
            r"hand)|(?:anyone|anybody|someone|people) (?:asking|looking) for (?:help|anything|"
            r"something)|(?:anyone|anybody|someone)"
            r" need(?:s|ing)? (?:help|anything|something|a hand))\b"),
        (1, r"\b(?:demandes|requests)\b"),
    ),
    "renew": (
        (3, rf"\b(?:renouvel\w*|prolong\w*|remettre|republier|relancer|garder|conserver|"
            rf"reactiver|renew\w*|keep|repost|put (?:it |\w+ )?back|extend) (?:{_MY_FR} |my |the "
            rf"|it\b|this )?(?:\w+ ){{0,3}}(?:{_ITEM_FR}|{_ITEM_EN})\b"),
        (2, r"\b(?:toujours (?:disponible|d'actualite|valable)|still (?:available|need|valid|"
            r"on offer)|(?:a|est) disparue?|has (?:gone|disappeared)|la remettre|le remettre|"
            r"la prolonger|la garder|la renouveler|keep it|je (?:la|le) (?:garde|renouvelle|"
            r"prolonge)|i'?ll keep it)\b"),
        (1, r"\b(?:renouvel\w*|prolong\w*|renew\w*)\b"),
    ),
    "close": (
        (3, rf"\b(?:enlever|enlevez|retirer|retirez|supprimer|supprimez|effacer|effacez|clore|"
            rf"cloturer|fermer|fermez|annuler|annulez|arreter|arretez|stopper|terminer) "
            rf"(?:{_MY_FR} )?(?:\w+ )?{_ITEM_FR}\b"),
        (3, rf"\b(?:take down|remove|delete|close|cancel|withdraw|take off|stop|end) (?:my |the "
            rf"|this )?(?:\w+ ){{0,3}}{_ITEM_EN}\b"),
        (3, rf"\b(?:{_ITEM_EN}|{_ITEM_FR}) (?:can|could|peut) (?:be |etre |now be )?(?:removed|"
            rf"closed|taken down|deleted|retiree?|supprimee?|enlevee?|close)"),
        (1, r"\b(?:close|remove|delete|take down|cancel) it\b|\b(?:la|le) (?:retirer|enlever|"
            r"supprimer|clore|fermer)\b"),
        (2, r"\b(?:plus besoin|n'ai plus besoin|c'est regle|j'ai trouve|(?:est|c'est) "
            r"(?:finie?|terminee?|pourvue?)|vendue?|n'est plus (?:disponible|d'actualite)|"
            r"no longer (?:need|needed|available)|(?:sorted|found someone|all sorted|"
            r"not needed any ?more|don'?t need))\b"),
    ),
    "withdraw": (
        (3, r"\b(?:retirer|retire|retirez|annuler|annule|abandonner|abandonne|j'annule|je retire)"
            r" (?:ma|la|cette|mon) (?:proposition|projet)|\b(?:withdraw|cancel|drop|pull|take "
            r"back) (?:my |the |this )?(?:\w+ ){0,3}proposal"),
    ),
    "extend": (
        (3, r"\b(?:prolonger|prolongez|repousser|reporter|retarder|allonger|extend|postpone|push "
            r"back) (?:(?:de )?(?:\d+|une|deux|trois|quatre|huit|quinze) \w+ )?(?:le delai|la "
            r"date|l'echeance|(?:(?:la|ma|cette) )?(?:\w+ ){0,3}proposition|the deadline|"
            r"(?:(?:my|the|this) )?(?:\w+ ){0,3}proposal|de \d+|by)"),
        (3, r"\b(?:(?:une|deux|trois|\d+|quelques) (?:semaines?|jours?) de plus|plus de temps|"
            r"another (?:week|day|few days|\d+ days)|encore (?:une semaine|quelques jours|"
            r"\d+ jours)|"
            r"(?:more|extra) time|(?:a|one|two|three|\d+) (?:more|extra) (?:weeks?|days?)|"
            r"(?:weeks?|days?) (?:more|longer|extra))\b"),
    ),
    "proposals": (
        (3, r"\b(?:(?:quelles? sont|liste des|les) propositions?|propositions? (?:en cours|"
            r"ouvertes?|du moment)|decisions? (?:a prendre|en cours|en attente)|(?:qu'est ce "
            r"qu'il y a|quoi) (?:a voter|en discussion)|sur quoi (?:on )?vote|(?:open|current|"
            r"pending) "
            r"proposals|what(?:'s| is| are) (?:being )?proposed|(?:anything|what) to (?:vote|"
            r"decide) on|proposals? (?:open|pending)|(?:what|which) proposals|(?:being )?voted on|"
            r"up for (?:a )?vote|(?:what|anything) to vote|a voter)\b"),
        (1, r"\b(?:propositions|proposals)\b"),
    ),
    "index": (
        (3, r"\b(?:sommaire|archives?|(?:anciens|vieux|precedents) (?:messages|mails|courriels)|"
            r"(?:messages|mails|courriels) (?:precedents|passes|anciens|archives)|(?:la )?liste "
            r"des (?:messages|mails|courriels|envois)(?! de (?:moi|lui|elle))|(?:past|previous|"
            r"old|earlier) (?:posts|messages|e ?mails)|list of (?:the )?(?:posts|messages)|"
            r"(?:messages|posts) (?:sent|posted) (?:to|on) the list)\b"),
    ),
    "get": (
        (3, r"\b(?:renvoy\w*|envoy\w*|relire|revoir|retrouver|recevoir|avoir|send|resend|get|"
            r"see|read|forward)(?: (?:moi|me|m'|nous|a nouveau|encore|again))* (?:le |la |the |"
            r"un |une |de nouveau )?(?:message|mail|courriel|post|e ?mail|envoi)s? "
            r"(?:n ?°|no\.?|numero|number|#)? ?\d+\b"),
        (2, r"\b(?:message|post|courriel) (?:n ?°|no\.?|numero|number|#) ?\d+\b(?! (?:fois|"
            r"times|jours|days|heures|hours|points|minutes))"),
    ),
    # A moderator's acts on one member, said in a sentence ("Pouvez-vous mettre Bob sous
    # modération ?", "please send Marie a reminder of the charter").
    "moderate": (
        (5, r"\b(?:(?:mettre|mettez|placer|placez|passer|passez) (?:\w+ ){1,3}(?:sous|en) "
            r"moderation|put (?:\w+ ){1,3}(?:under|on) moderation|moderate (?:all )?(?:his|her|"
            r"their) (?:posts|messages))\b"),
    ),
    "unmoderate": (
        (5, r"\b(?:(?:lever|levez|retirer|retirez|enlever|enlevez|arreter|arretez|finir) (?:la|"
            r"sa) moderation|(?:sortir|sortez) (?:\w+ ){1,3}de (?:la )?moderation|plus sous "
            r"moderation|(?:lift|end|remove) (?:the |her |his |their )?moderation|take (?:\w+ )"
            r"{1,3}off moderation|no longer (?:under|on) moderation|lift (?:\w+(?:'s)? ){0,2}"
            r"moderation)\b"),
    ),
    "remind": (
        (5, r"\b(?:(?:envoyer|envoyez|faire|faites|adresser|adressez) (?:\w+ ){0,2}(?:un |"
            r"petit )?rappel (?:de (?:la charte|nos regles|des regles)|a l'ordre)|rappeler "
            r"(?:la charte|les regles|nos regles) a|(?:send|give) (?:\w+ ){0,3}(?:a |friendly )*"
            r"reminder of (?:the |our )?(?:charter|rules)|remind (?:\w+ ){1,3}(?:of|about) "
            r"(?:the|our) (?:charter|rules))\b"),
        # outweighs "la charte" asked for oneself
        (3, r"\b(?:rappel (?:de la charte|des regles|de nos regles)|reminder of (?:the |our )?"
            r"(?:charter|rules))\b"),
    ),
    "charter": (
        (3, r"\b(?:(?:la|votre|notre|une) charte|(?:le|votre) reglement (?:de|du|interieur)|"
            r"(?:les|vos) regles (?:de (?:la liste|vie|bonne conduite|du sel|du groupe|"
            r"l'association)|du (?:sel|groupe))|(?:the|your|our) (?:list'?s? |group'?s? )?"
            r"(?:charter|code of conduct)|(?:the|your) (?:list|group|house) rules|the rules of "
            r"(?:the|this|your) (?:list|group))\b"),
        (1, r"\b(?:charte|reglement|charter|rules|regles)\b"),
    ),
    "decisions": (
        (3, r"\b(?:(?:ce qui|ce qu'on|qu'est ce qu'on|qu'a t on|qu'avons nous|on a) (?:a ete )?"
            r"decide|decisions? (?:prises|adoptees|de l'annee|passees)|registre|(?:what|which) "
            r"(?:did|has|have|was|were) (?:\w+ ){0,2}decided?|a ete (?:decidee?s?|adoptee?s?|"
            r"votee?s?|acceptee?s?)|ou en (?:est on|sont) (?:les |des )?decisions|decisions? "
            r"(?:were |have been |did we )?(?:made|taken|adopt\w*)|"
            r"what was (?:agreed|decided)|register|been (?:decided|agreed|adopted))\b"),
        (1, r"\b(?:decisions?|decide)\b(?! a prendre| en cours| en attente| to (?:make|take))"),
    ),
}

# How-to questions: "comment faire pour payer…". With everything an action needs it is that
# action; without, the writer wants the guide to it (help).
HOW_TO = (r"\b(?:comment (?:faire|fait on|on fait|faut il|dois je|puis je|je fais|je peux|"
          r"pourrais je|proceder)|je ne sais pas comment|how (?:do|can|should|would) (?:i|we|"
          r"one)|how to|(?:don'?t|do not) know how|not sure how)\b")

# A payment the writer says someone else owes them: only the payer can pay.
CLAIM = (r"\b(?:j'ai (?:fait|travaille|passe|aide|donne|tondu|taille|garde|repare|accompagne|"
         r"conduit|emmene|cuisine|cousu|bricole|nettoye|promene|depanne|installe|repasse|"
         r"peint|coupe)\b(?!.*\b(?:pour moi|chez moi)\b)|me doit|me doivent|(?:doit|doivent|"
         r"faut qu'(?:il|elle)) me pay\w*|(?:qu'il|qu'elle) me pa[iy]e|i (?:did|worked|"
         r"spent|helped|gave|mowed|fixed|cleaned|drove|walked|cooked|painted)\b(?!.*\bfor "
         r"me\b)|owes? me\b|credit me\b)")

# A line of the writer's statement or a receipt questioned: a matter for a moderator.
DISPUTE = (r"\b(?:c'est quoi (?:la|cette) (?:ligne|operation|somme)|(?:je (?:ne )?lui|je ne "
           r"leur) ai rien demande|rien demande|erreur|je conteste|pas normal|je n'ai "
           r"(?:jamais|pas) (?:demande|recu|paye|accepte)|a tort|mistake|wrong|"
           r"i never (?:asked|paid|agreed)|what is this (?:line|entry|charge)|"
           r"don'?t recogni[sz]e|annule[rz]? (?:ce|le|mon|cette)? ?(?:paiement|virement|"
           r"versement|echange)|cancel (?:that|this|my|the) (?:payment|transfer))\b")
LEDGER_WORDS = r"\b(?:points?|ligne|heures?|solde|releve|debit\w*|entry|line|hours?|balance)\b"

DIGEST_MODES = (
    ("off", r"\b(?:chaque (?:message|mail)|au fur et a mesure|un par un|one by one|separately|"
            r"separement|individuellement|(?:each|every) "
            r"(?:single )?(?:message|e ?mail|post|one)|as they (?:come|arrive)|individual|"
            r"plus de resume|pas de resume|no (?:more )?digest|stop the digest|normal(?:ement)?)"),
    ("daily", r"\b(?:quotidien\w*|par jour|chaque jour|tous les jours|du jour|daily|(?:once|one)"
              r" (?:\w+ )?a day|every day|each day|(?:le|chaque|tous les) soirs?|in the "
              r"evening|every evening)\b"),
    ("weekly", r"\b(?:hebdo\w*|par semaine|chaque semaine|toutes les semaines|de la semaine|"
               r"weekly|(?:once|one) (?:\w+ )?a week|every week|each week)\b"),
)

# Words that tell an item from a proposal, and mine from anyone's.
ITEM_WORDS = rf"\b(?:{_ITEM_FR}|{_ITEM_EN})\b"
OFFER_WORD = r"\b(?:offres?|offers?|offering)\b"
REQUEST_WORD = r"\b(?:demandes?|requests?)\b"
PROPOSAL_WORDS = r"\b(?:propositions?|proposals?|projet|motion|delai|deadline)\b"
MINE = r"\b(?:mon|ma|mes|my|mine|j'ai (?:propose|poste|mis))\b"

# Someone not on the list who writes about the group itself wants, most likely, to join it.
ABOUT_THE_GROUP = (r"\b(?:sel|systeme d'echange|votre (?:groupe|association|liste|reseau)|"
                   r"banque de temps|time ?bank|your (?:group|association|list|exchange)|"
                   r"renseignements?|informations? sur|interesse|interested)\b")

# Spellings of the keyboard and the phone, made the usual ones before reading.
SPELLINGS = {"daccord": "d'accord", "dacord": "d'accord", "d'acord": "d'accord",
             "koi": "quoi",
             "pr": "pour", "qqn": "quelqu'un", "qq1": "quelqu'un", "bcp": "beaucoup",
             "tjrs": "toujours", "stp": "s'il te plait", "pls": "please", "plz": "please",
             "ok": "ok", "okay": "ok", "mercii": "merci", "mail's": "mails"}
# Long words members misspell ("désincrire", "suprimer", "hebdomadère"): a word one slip
# away (two for 10 letters and more) is read as the word.
KEYWORDS = _words("""
desinscrire desinscription supprimer supprimez renouveler renouvelez prolonger prolongez
hebdomadaire quotidien propositions decisions objection recapitulatif unsubscribe subscribe
statement proposals membership inscription inscrire""")
# Real words a slip away from a keyword, left as they are.
NOT_SLIPS = frozenset(_words("inscrite inscrites inscrits decisive suppression statements"))

# Words that never tell an item or a proposal apart ("la", "pour", "proposition"…).
STOP_WORDS = frozenset(_words("""
a au aux avec ce ces cette de des du en et il je la le les leur lui ma me mes moi mon ne nos
notre nous on ou par pas plus pour qu que qui sa se ses son sur ta te tes toi ton tu un une
vos votre vous y d l j m n s c est suis sont ete etre avoir ai as avons avez ont merci
bonjour cordialement svp stp tres bien tout tous toute toutes aussi alors donc mais car si
oui non proposition propositions offre offres demande demandes annonce annonces numero n the
an and of for to with my i me we our you your it its is are be was this that on in at by
please thanks thank hello hi proposal proposals offer offers request requests ad about from
"""))
