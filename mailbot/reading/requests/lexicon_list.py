"""The phrase families of the list and confirm addresses, as data: the stance a reply in a
proposal's thread opens with, a moderator's decision on a held post, a plain yes, and how a
new post says it is a proposal, an offer or a request (its subject's tag, or its words).
Patterns are over `plain` sentences, like lexicon.py's.
"""

# Replies in a proposal's thread: the stance a sentence opens with.
# "Pour la 4 je suis d'accord", "Proposal 5: I object": the number may come first.
_ABOUT = (r"(?:(?:pour|for|on|sur|about|concernant|quant a|re) (?:la |le |the )?(?:proposition |"
          r"proposal |n°|#|no ?|number )?\d{1,3}\s*[,:-]?\s*|(?:proposition|proposal|n°|#) ?"
          r"\d{1,3}\s*[,:-]?\s*)?")
OBJECT = (rf"^{_ABOUT}(?:(?:moi|alors|eh bien|well|sorry but|desolee? mais) )*(?:objection|"
          r"absolutely not|certainly not|no way|hors de question|pas question|jamais de la vie|"
          r"je m'y oppose|je m'oppose|je vote contre|vote contre|i vote against|je dis non|"
          r"i'?m not (?:keen|convinced)|not a good idea|pas une bonne idee|"
          r"je suis (?:contre|opposee?|en desaccord)|contre\b|"
          r"(?:je ne suis )?pas d'accord|je ne suis pas (?:pour|favorable)|non\b|veto|"
          r"je bloque|bloque\b|-1\b|mauvaise idee|i object|i(?:'m| am) (?:against|opposed)|"
          r"i (?:really |strongly |totally )?disagree|i (?:really |just )?(?:do not|don'?t) "
          r"agree|against\b|no\b|bad idea|i oppose|not in favou?r|i(?:'m| am) not (?:in "
          r"favou?r|for it))|\bi (?:must |have to |really |strongly |do )?object\b|"
          r"\bje m'oppose\b|\bje (?:ne )?suis pas d'accord\b|"
          r"\bi (?:really |strongly )?(?:disagree|(?:do not|don'?t) agree)\b|"
          r"\bi(?:'m| am) (?:against|opposed to) (?:it|this)\b|\bje m'y oppose\b|"
          r"\bje suis contre\b|\bje vote contre\b")
SUPPORT = (rf"^{_ABOUT}(?:(?:tres|vraiment|quelle|what a|really|such a|oui|yes|ah|oh|moi) )*"
           r"(?:d'accord|je suis d'accord|tout a fait d'accord|ok pour moi|je suis pour|"
           r"je vote pour|i vote for|vote yes|je dis oui|tres bien|parfait|impeccable|"
           r"(?:c'est )?une bonne idee|ca me va|ca me plait|avec plaisir|with pleasure|volontiers|"
           r"comptez sur moi|count on me|love (?:it|this|the idea)|i love (?:it|"
           r"this|the idea)|brilliant|fantastic|wonderful|splendid|j'adore|genial|chouette|"
           r"formidable|parfait|perfect|"
           r"je soutiens|(?:tres )?favorable|bonne idee|super(?: idee)?|excellente idee|"
           r"bravo|oui\b|\+1|agreed?\b|i agree|i support|great idea|good idea|excellent idea|"
           r"count me in|yes\b|i(?:'m| am) (?:all )?for (?:it|this)|in favou?r|sounds (?:good|"
           r"great)|fully support|what a (?:good|great) idea)|\b(?:i'?m all for it|i'?m (?:all )?"
           r"in favou?r|je suis (?:tout a fait )?pour\b|je vote pour|je soutiens|i support "
           r"(?:it|this|the)|count me in|(?:great|good|excellent|lovely|brilliant|wonderful) "
           r"idea|(?:bonne|belle|excellente|super) idee)")

# A plain yes, to the bot's question (a renewal notice: "keep it?").
AGREE = (r"^(?:oui|yes|ok|okay|d'accord|volontiers|bien sur|sure|please|yes please|certainly|"
         r"of course|absolument|avec plaisir|je veux bien|merci)\b")

# Moderators answering a held-post notice: the decision their reply opens with.
DECIDE = {
    "discard": (r"\b(?:peu[tx] (?:le |la )?(?:jeter|supprimer|effacer)|(?:le|la) (?:jeter|"
                r"supprimer|effacer)|throw it away|delete it|bin it)\b|^(?:(?:a )?jeter|jetez|"
                r"jette|(?:a )?supprimer|supprimez|supprime|effacer|"
                r"efface[rz]?|(?:a la )?(?:poubelle|corbeille)|discard\w*|delete\w*|bin it|spam|"
                r"ignore\w*|drop it)\b|\b(?:message automatique|c'est (?:du|un) spam|"
                r"it'?s spam|auto ?reply)\b"),
    "reject": (r"^(?:non|no|nope|refuse\w*|refusez|reject\w*|rejete\w*|pas question|"
               r"certainly not|decline\w*)\b"),
    "approve": (r"^(?:oui|ok|okay|d'accord|bien sur|approuve\w*|accepte\w*|valide\w*|yes|"
                r"yep|approve\w*|accept\w*|fine|go ahead|let (?:it|her|him) (?:go )?through|"
                r"publie\w*|publish|c'est bon|pas de (?:probleme|souci)|no problem|sure)\b|"
                r"\b(?:peu[tv]e?n?t? (?:passer|partir|etre (?:publiee?|diffusee?|envoyee?))|"
                r"(?:vous )?pouvez (?:le |la )?(?:publier|diffuser|envoyer)|publish it|"
                r"laisse[rz]? passer|can go (?:through|out))\b"),
}

# Posts to the list: a new proposal, offer or request, told by the subject's tag…
PROPOSE_TAG = (r"^(?:\[\s*(?:proposal|proposition|proposta)s?\s*\]|(?:proposal|proposition|"
               r"motion)s?\s*(?:[:\-–]|n°\s*\d*\s*:)\s*)")
OFFER_TAG = (r"^(?:\[\s*(?:offer|offre|offering)s?\s*\]|(?:offer|offre|offering|je propose|"
             r"a donner|a preter|to give away|for loan)s?\s*[:\-–]\s*)")
REQUEST_TAG = (r"^(?:\[\s*(?:request|demande|wanted)s?\s*\]|(?:request|demande|wanted|cherche|"
               r"recherche|looking for|besoin|je cherche)s?\s*[:\-–]\s*)")
# … or by what its text says.
PROPOSE_TEXT = (r"\b(?:je propose (?:que|qu'on|qu'il|que nous|de (?:faire|organiser|changer|"
                r"modifier|creer|deplacer|fixer|passer|instaurer|mettre en place|acheter|tenir|"
                r"voter))|i propose (?:that |we |to (?:change|move|buy|hold|set up))|i'?d like "
                r"to propose|i suggest (?:that )?we|nous pourrions decider)")
OFFER_TEXT = (r"\b(?:je (?:donne|fais|propose|offre) (?:de l'aide|des cours|des lecons|un coup "
              r"de main)|je (?:peux|pourrais|sais|veux bien) (?:vous |en |leur |lui )?(?:aider|"
              r"faire|donner|preter|proposer|m'occuper|tondre|tailler|garder|conduire|emmener|"
              r"cuisiner|"
              r"coudre|reparer|couper|apprendre|enseigner|montrer|accompagner|transporter|porter|"
              r"tricoter|jardiner|bricoler|repasser|promener|installer)"
              r"|(?:a|pour) (?:ceux|celles) qui (?:veulent|le souhaitent|ont besoin)|a qui (?:le )?"
              r"veut|si (?:ca|cela) (?:vous )?interesse|(?:for|to) (?:anyone|those|people) who"
              r"|je propose (?:mes services|de l'aide|du |des |de la |un coup de main|de vous|"
              r"d'aider|aux|mon aide)|je mets a (?:votre )?disposition|a donner|je prete|"
              r"i can (?:make|help|do|offer|lend|teach|fix|give|drive|bake|cut)|i could (?:help|"
              r"make|do)|(?:happy|glad|pleased) to (?:help|cut|make|lend|teach|do|give|drive)|"
              r"i offer|offering|just ask|if anyone needs|si (?:quelqu'un|vous) (?:a|avez) "
              r"besoin|n'hesitez pas a me)\b")
REQUEST_TEXT = (r"\b(?:je cherche (?:quelqu'un|une personne|qui)|j'(?:aurais|ai) besoin (?:de "
                r"quelqu'un|d'aide|d'un coup de main|qu'on)|(?:quelqu'un|qui) (?:pourrait|"
                r"serait (?:dispo|disponible|d'accord)|saurait)|(?:i'?ll |i will |i )?need "
                r"(?:someone|somebody|help|a hand)|looking for (?:someone|somebody)|(?:could|"
                r"would) (?:anyone|someone|somebody) (?:help|walk|come|take|give|lend)|does anyone "
                r"have time|(?:i|je) (?:could|can|pourrais) (?:borrow|emprunter)|(?:lend|preter) "
                r"(?:me|moi)|me (?:preter|lend)|quelqu'un (?:aurait|a) (?:t il )?(?:un|une|des) "
                r"\w+ (?:a )?(?:me )?preter)\b")
# Asking the list (or the bot) to put an offer or request on the list.
PUBLISH = (r"\b(?:mettre (?:sur|dans) la liste|la (?:mettre|diffuser|publier)|le (?:mettre|"
           r"diffuser|publier)|diffuser|publier|faire passer|put (?:it|this) (?:on|out)|"
           r"post (?:it|this)|send (?:it|this) (?:round|out|to everyone))\b")
