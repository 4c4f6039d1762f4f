"""The words mail clients write around a quoted message, per language, as data.

Quote headers ("wrote"), Outlook header-block keys, "Original message" and forward
separators, mobile footers, sign-offs and external-sender banners. reply_lines.py compiles
them; every entry is compared folded (lowercase, accents removed, see text.fold).
"""

# The verb of an attribution line: "On …, Marie <m@x.org> wrote:" in each language.
WROTE = [
    "wrote", "writes", "has written",                                  # en
    "a écrit", "écrit", "a ecrit",                                     # fr
    "schrieb", "hat geschrieben", "schreibt",                          # de
    "escribió", "escribio", "ha escrito", "ha escrit",                 # es, ca
    "ha scritto", "scrisse",                                           # it
    "escreveu", "escrevia",                                            # pt
    "schreef", "heeft geschreven", "het volgende geschreven",          # nl
    "napisał(a)", "napisał", "napisała", "pisze", "napisana przez",    # pl
    "skrev",                                                           # sv, da, no
    "kirjoitti",                                                       # fi
    "napsal(a)", "napsal", "napsala",                                  # cs
    "napísal", "napísala",                                             # sk
    "написал(а)", "написал", "написала", "пишет",                      # ru
    "написав", "написала", "пише",                                     # uk
    "írta",                                                            # hu
    "a scris", "scrie",                                                # ro
    "yazdı",                                                           # tr
    "έγραψε",                                                          # el
    "كتب",                                                             # ar
    "写道", "寫道",                                                     # zh
    "のメッセージ", "は書きました", "さんは書きました", "のメール",          # ja
    "님이 작성", "작성:",                                               # ko
]

# Outlook-style header blocks: "De : … / Envoyé : … / À : … / Objet : …", by role.
HEADER_KEYS: dict[str, list[str]] = {
    "from": [
        "from", "de", "von", "van", "da", "od", "fra", "från", "lähettäjä", "от", "від",
        "feladó", "de la", "kimden", "nadawca", "afzender", "remitente", "mittente",
        "absender", "expéditeur", "message du", "差出人", "送信者", "发件人", "發件人",
        "寄件者", "보낸 사람", "보낸사람", "من",
    ],
    "sent": [
        "sent", "date", "envoyé", "envoyé le", "gesendet", "datum", "verzonden", "enviado",
        "enviado el", "enviada em", "enviado em", "fecha", "inviato", "data", "wysłano",
        "wysłane", "skickat", "sendt", "dato", "lähetetty", "päivämäärä", "odesláno",
        "отправлено", "дата", "надіслано", "elküldve", "dátum", "trimis", "gönderildi",
        "tarih", "送信日時", "日付", "发送时间", "發送時間", "日期", "时间", "날짜",
        "보낸 날짜", "التاريخ",
    ],
    "to": [
        "to", "à", "a", "an", "aan", "para", "do", "till", "til", "vastaanottaja", "komu",
        "кому", "címzett", "către", "kime", "adresat", "odbiorca", "宛先", "收件人",
        "받는 사람", "받는사람", "إلى",
    ],
    "cc": [
        "cc", "copie", "copie à", "kopie", "kopia", "kopi", "kopio", "копия", "копія",
        "másolat", "dw", "bcc", "cci", "抄送", "副本",
    ],
    "subject": [
        "subject", "objet", "sujet", "betreff", "onderwerp", "asunto", "oggetto", "assunto",
        "temat", "ämne", "emne", "aihe", "předmět", "тема", "tárgy", "subiect", "konu",
        "件名", "主题", "主旨", "제목", "الموضوع",
    ],
}

# A line that is only one of these (between dashes, or ending in ":") opens the original or
# a forwarded message: nothing under it is the writer's.
SEPARATORS = [
    "original message", "original-nachricht", "ursprüngliche nachricht",
    "weitergeleitete nachricht", "anfang der weitergeleiteten nachricht",
    "message d'origine", "message original", "mail original", "message transféré",
    "courriel original", "début du message réexpédié", "début du message transféré",
    "forwarded message", "begin forwarded message", "forwarded by", "original email",
    "mensaje original", "mensaje reenviado", "inicio del mensaje reenviado",
    "messaggio originale", "messaggio inoltrato", "inizio messaggio inoltrato",
    "mensagem original", "mensagem encaminhada", "início da mensagem reencaminhada",
    "oorspronkelijk bericht", "origineel bericht", "doorgestuurd bericht",
    "begin doorgestuurd bericht", "wiadomość oryginalna", "oryginalna wiadomość",
    "przekazana wiadomość", "ursprungligt meddelande", "originalmeddelande",
    "vidarebefordrat meddelande", "oprindelig meddelelse", "videresendt meddelelse",
    "oprindelig besked", "videresendt besked", "original besked",
    "opprinnelig melding", "videresendt melding", "alkuperäinen viesti", "välitetty viesti",
    "původní zpráva", "přeposlaná zpráva", "pôvodná správa", "исходное сообщение",
    "пересылаемое сообщение", "пересланное сообщение", "оригінальне повідомлення",
    "переслане повідомлення", "eredeti üzenet", "továbbított üzenet", "mesaj original",
    "mesaj redirecționat", "orijinal mesaj", "iletilen mesaj", "原始邮件", "转发的邮件",
    "原始郵件", "元のメッセージ", "転送されたメッセージ", "원본 메시지", "전달된 메시지",
    "الرسالة الأصلية",
]

# Orange webmail opens its quote with "Message du 01/12/26 18:00" (a colon or not), then
# its header block.
DATED_INTROS = ["message du"]

# Mobile and webmail footers: a short line opening (or closing) with one of these words.
# These say "footer" alone ("Sent from my Wiko RIDGE FAB 4G", "Sent from TypeApp")…
FOOTER_SENT = [
    "sent from", "sent with", "sent via", "sent using", "envoyé de mon", "envoyé depuis",
    "envoyé à partir de", "envoyé avec", "envoyé via", "gesendet von", "von meinem",
    "gesendet mit", "enviado desde", "enviado do meu", "enviado con", "enviado com",
    "inviato da", "inviato con", "verzonden vanaf", "verzonden met", "verzonden vanuit",
    "verstuurd vanaf", "verstuurd met", "verstuurd vanuit", "wysłane z", "wysłano z",
    "skickat från", "sendt fra", "odesláno z", "odoslané z", "отправлено с", "отправлено из",
    "надіслано з", "küldve",
    "trimis de pe", "trimis cu", "gönderildi", "أرسلت من", "从我的", "發自我的", "发自我的",
    "から送信", "보냄",
]
# …these only with a device or an app named ("Envoyé de Yahoo Mail", "Gesendet: iPhone").
FOOTER_SENT_WITH_DEVICE = ["envoyé de", "envoyé par", "sent by", "enviado de", "enviado do",
                           "enviada do", "gesendet",
                           "lähetetty", "送信", "发送", "發送", "发自", "發自", "보낸"]
# "Get Outlook for Android": these verbs only open a footer about the app itself.
FOOTER_GET = ["get", "download", "obtenir", "télécharger", "holen sie sich", "descargar",
              "obtener", "scarica", "baixe", "pobierz", "hämta", "hent", "загрузите"]
FOOTER_APP = ["outlook"]
FOOTER_DEVICE = [
    "iphone", "ipad", "ipod", "android", "blackberry", "outlook", "samsung", "galaxy",
    "huawei", "xiaomi", "pixel", "windows", "ios", "mobile", "smartphone", "tablet",
    "yahoo", "gmail", "protonmail", "proton", "tuta", "fairemail", "spark", "k-9",
    "aquamail", "bluemail", "zimbra", "laposte", "mail for windows", "thunderbird",
    "portable", "móvil", "movil", "celular", "telefon", "телефон", "планшет",
    "手机", "手機", "携帯", "모바일",
]

# Closing formulas: kept, with the name under them; what follows them is a signature.
SIGNOFFS = [
    "regards", "kind regards", "best regards", "warm regards", "warmest regards",
    "kindest regards", "many regards", "with regards", "with kind regards", "best wishes",
    "best", "all the best", "all best", "cheers", "sincerely", "yours sincerely",
    "sincerely yours", "yours truly", "yours faithfully", "faithfully", "take care",
    "thanks and regards", "thanks & regards", "with best regards", "respectfully", "rgds",
    "br", "kr",
    "cordialement", "bien cordialement", "très cordialement", "cdlt", "bien à vous",
    "bien à toi", "amitiés", "amicalement", "bien amicalement", "bises", "grosses bises",
    "bisous", "à bientôt", "au revoir", "salutations", "sincères salutations",
    "meilleures salutations", "salutations distinguées", "respectueusement",
    "bonne journée", "bonne soirée", "bonne fin de journée", "belle journée",
    "bon week-end", "bonne semaine",
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße",
    "freundliche grüsse", "viele grüße", "viele grüsse", "beste grüße", "beste grüsse",
    "liebe grüße", "liebe grüsse", "herzliche grüße", "herzliche grüsse", "schöne grüße",
    "gruß", "grüße", "grüsse", "lg", "mfg", "vg",
    "saludos", "un saludo", "saludos cordiales", "atentamente", "cordialmente",
    "un abrazo", "salud",
    "cordiali saluti", "distinti saluti", "saluti", "un saluto", "a presto",
    "atenciosamente", "cumprimentos", "abraços", "com os melhores cumprimentos",
    "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet",
    "groeten", "groet", "mvg",
    "pozdrawiam", "z poważaniem", "serdecznie pozdrawiam", "do widzenia",
    "med vänlig hälsning", "vänliga hälsningar", "hälsningar", "mvh",
    "med venlig hilsen", "venlig hilsen", "kærlig hilsen", "hilsen",
    "med vennlig hilsen", "vennlig hilsen",
    "ystävällisin terveisin", "terveisin",
    "s pozdravem", "s pozdravom", "с уважением", "з повагою",
    "üdvözlettel", "cu stimă", "saygılarımla",
    "よろしくお願いいたします", "以上、よろしくお願いいたします",
]

# External-sender banners some servers put above the writer's text.
BANNER_START = ["caution", "warning", "external", "[external]", "attention",
                "avertissement", "achtung", "notice", "[ext]"]
BANNER_WORDS = ["external", "outside", "extérieur", "externe", "extern", "externo",
                "esterno", "originated"]
