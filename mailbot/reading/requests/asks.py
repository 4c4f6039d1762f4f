"""The short questions the bot asks back when a request is not clear enough to carry out,
in the writer's language. Data: one sentence per case, French and English."""

ASKS: dict[str, dict[str, str]] = {
    "which": {
        "fr": "Plusieurs membres s'appellent {name} : {candidates}. De qui s'agit-il ? "
              "Répondez avec son nom complet.",
        "en": "Several members are called {name}: {candidates}. Which one do you mean? "
              "Reply with their full name.",
    },
    "unknown-person": {
        "fr": "Je ne trouve pas « {name} » parmi les membres. Pouvez-vous donner son nom "
              "complet ou son adresse ?",
        "en": "I cannot find \"{name}\" among the members. Could you give their full name "
              "or address?",
    },
    "how-much": {
        "fr": "Combien de temps voulez-vous payer à {name} ? Écrivez par exemple « payer "
              "{name} 1h30 ».",
        "en": "How much time do you want to pay {name}? Write for example \"pay {name} "
              "1h30\".",
    },
    "to-whom": {
        "fr": "À qui voulez-vous payer ce temps ? Écrivez par exemple « payer Marie Dubois "
              "1h ».",
        "en": "Whom do you want to pay? Write for example \"pay Marie Dubois 1h\".",
    },
    "claim": {
        "fr": "Seule la personne qui a reçu le service peut payer : demandez à {name} "
              "d'écrire « payer {you} {amount} ». Voulez-vous que je le lui demande ?",
        "en": "Only the person who received the service can pay: ask {name} to write "
              "\"pay {you} {amount}\". Shall I ask them for you?",
    },
    "dispute": {
        "fr": "Une ligne de vos échanges vous semble fausse ? Voulez-vous que je transmette "
              "votre message aux modérateurs ?",
        "en": "Does a line of your statement look wrong? Shall I pass your message on to "
              "the moderators?",
    },
    "which-proposal": {
        "fr": "De quelle proposition s'agit-il ? Donnez son numéro (écrivez « propositions » "
              "pour les voir).",
        "en": "Which proposal do you mean? Give its number (write \"proposals\" to see "
              "them).",
    },
    "which-item": {
        "fr": "De quelle annonce s'agit-il ? Donnez son numéro (écrivez « offres » ou "
              "« demandes » pour les voir).",
        "en": "Which offer or request do you mean? Give its number (write \"offers\" or "
              "\"requests\" to see them).",
    },
    "decide": {
        "fr": "Que faire de ce message : approuver, refuser (avec votre raison) ou jeter ?",
        "en": "What should I do with this message: approve, reject (with your reason) or "
              "discard?",
    },
    "what": {
        "fr": "Je n'ai pas compris votre demande. Pouvez-vous l'écrire en une phrase "
              "courte, par exemple « solde », « pause » ou « payer Marie Dubois 1h » ?",
        "en": "I did not understand your request. Could you write it in one short "
              "sentence, for example \"balance\", \"nomail\" or \"pay Marie Dubois 1h\"?",
    },
}


def ask(case: str, language: str, **values: str) -> str:
    sentences = ASKS[case]
    return sentences.get(language, sentences["fr"]).format(**values)
