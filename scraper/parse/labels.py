"""The visible French labels a reader sees, in one place (parsing layer 3).

When the theme's class names change, these words usually do not: every field has a label fallback here.
Patterns run over the page's visible text (one text node a line), so they are markup-agnostic.
"""

from __future__ import annotations

import re

# A date as the site shows it: '12/03/2018' or '12 mars 2018' ('1er avril 2019'), then maybe 'à 10h45'.
_SHOWN_DATE = (r"(?:\d{1,2}/\d{1,2}/\d{4}|\d{1,2}(?:er)?\s+[A-Za-zéèûÉÈÛ]+\s+\d{4})"
               r"(?:\s*(?:à\s*)?\d{1,2}\s*h\s*:?\s*\d{2})?")
UPDATED = re.compile(r"Mis\s+à\s+jour\s+le\s*:?\s*(" + _SHOWN_DATE + ")")
PUBLISHED = re.compile(r"Publié\s+le\s*:?\s*(" + _SHOWN_DATE + ")")
BYLINE = re.compile(r"^Par(?:\s+(.*))?$")
# The byline of the site's articles from 2010 to 2018, on one line: 'Publié le 16/11/2010 • Par Hélène Girard •
# dans : Dossiers d'actualité' (date, authors, rubriques). Never part of the text.
BULLET_BYLINE = re.compile(r"^(?:Publié|Mis\s+à\s+jour)\s+le\b[^•|]*[•|·]\s*Par\b")
_BYLINE_SEPARATORS = re.compile(r"\s*[•|·]\s*")
# 'N commentaires', '0 commentaire', 'Commentaires (6)', WordPress's '3 réflexions sur « … »' or 'Un commentaire sur
# « … »': the count of a comment thread, shown in its heading or beside the article's title.
_THREAD_WORDS = r"(?:commentaires?|réactions?|réflexions?)"
COMMENTS_HEADING = re.compile(
    r"^(?:(\d+|une?)\s+" + _THREAD_WORDS + r"(?:\s+(?:sur|à\s+propos\s+de)\b.*)?|" + _THREAD_WORDS
    + r"\s*\(\s*(\d+)\s*\))$", re.IGNORECASE)
COMMENTS_FRAGMENTS = ("ommentaire", "OMMENTAIRE", "éaction", "éflexion")


def shown_comments_count(line: str) -> int | None:
    """The number a comment count line shows ('Commentaires (6)', 'Une réflexion sur « … »'), or None."""
    match = COMMENTS_HEADING.match(line)
    if match is None:
        return None
    number = match.group(1) or match.group(2)
    return int(number) if number.isdigit() else 1


AUTHOR_SEPARATORS = re.compile(r"\s*(?:,|\bet\b|&)\s*")

DOSSIER_BOX = re.compile(r"fait\s+partie\s+du\s+dossier", re.IGNORECASE)
DOSSIER_TOC = re.compile(r"^Au\s+sommaire\s+du\s+dossier", re.IGNORECASE)
COMMENTS_COUNT = re.compile(r"(\d+)\s*\|\s*réagir", re.IGNORECASE)
# A pseudonym is short: a sentence ending in a date (a legal notice…) is not a comment header.
COMMENT_HEADER = re.compile(r"^(?P<author>[^\s].{0,59}?)\s+-\s+(?P<date>\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}h:?\d{2})$")
COMMENT_ACTIONS = re.compile(r"^(Répondre au commentaire|Signaler un abus|\|)(\s*\|\s*Signaler un abus)?$"
                             r"|^(Répondre|Modifier|Signaler)\b.{0,40}$|^Votre commentaire est en attente de modération"
                             r"|^Permalien$")
DATE_LABEL = re.compile(r"\b(?:Publié|Mis\s+à\s+jour|Mise\s+à\s+jour|Modifié)\b", re.IGNORECASE)
COMMENT_SAYS = re.compile(r"\s*(?:dit|a\s+dit|says|a\s+écrit)\s*:?\s*$", re.IGNORECASE)
SHARE = re.compile(r"^(Partager|Share|Imprimer|Envoyer|Tweeter|Recommander)\b", re.IGNORECASE)
SUBSCRIBE = re.compile(r"^(?:je\s+m['’]abonne|abonnez[\s-]*vous|s['’]abonner|m['’]abonner)\b", re.IGNORECASE)
SUBSCRIBE_FRAGMENTS = ("bonne", "BONNE")  # what the page text holds when it shows a subscription call
# What the page text holds when it shows a comment thread: its heading, its 'Répondre' links, its form.
THREAD_FRAGMENTS = ("ommentaire", "OMMENTAIRE", "épondre", "ÉPONDRE", "éaction", "éflexion")
NEWSLETTER = re.compile(r"newsletter|lettre\s+d['’]information", re.IGNORECASE)
READ_ALSO = re.compile(r"^(?:[AÀ]\s+)?(?:lire|voir)\s+aussi\b", re.IGNORECASE)
READ_ALSO_FRAGMENTS = ("ire aussi", "IRE AUSSI", "oir aussi", "OIR AUSSI")
THEMES = re.compile(r"^Thèmes\s+abordés", re.IGNORECASE)
NEXT_PAGE = re.compile(r"^(Page\s+suivante|Suivant|Suivante|Articles\s+suivants)\s*[›»>]?$", re.IGNORECASE)
# A pagination's bare arrow link: the next page only inside a pagination (never a card's "»").
NEXT_ARROW = re.compile(r"^[›»>]{1,2}$")
PAGE_LINK = re.compile(r"^(?:\d{1,4}|[«‹<›»>]{1,2}|…|\.\.\.|)$")  # the links of a pagination: numbers and arrows
# A list entry's lines that are neither its kicker nor its teaser: "Lire la suite", a lock's label.
READ_MORE = re.compile(r"^(Lire\s+la\s+suite|Lire\s+l['’]article|Lire\s+plus|En\s+savoir\s+plus|Voir\s+plus"
                       r"|\(?suite\)?)\s*[.…›»>)]*$", re.IGNORECASE)
LOCK_LABEL = re.compile(r"^(?:(?:Article|Contenu)\s+)?(?:(?:réservé|réservée)\s+aux\s+)?abonnés?$|^Premium$"
                        r"|^Abonnés?\s+seulement$", re.IGNORECASE)
# The name of a lock icon (an SVG's class, label, title or symbol): 'icon-lock', 'cadenas', 'Réservé aux abonnés'.
LOCK_NAME = re.compile(r"(?:^|[\s#_-])(?:lock|locked|padlock|cadenas)(?:$|[\s_-])|abonn[ée]s?\b|verrou", re.IGNORECASE)
# An element's title, alt or aria-label that says it is a lock: "Réservé aux abonnés", "Abonnés".
LOCK_ATTRIBUTE = re.compile(r"abonn[ée]s?\b|\bverrouill", re.IGNORECASE)
# A byline line of a list entry: "Par" and names (capitalised words, 'et', 'de'…), not a sentence ("Par décret, …").
_NAME = r"[A-ZÀ-Ý][\w’'.-]*"
ENTRY_BYLINE = re.compile(r"^Par\s+" + _NAME + r"(?:(?:\s+|\s*,\s*|\s*&\s*)(?:" + _NAME
                          + r"|et|de|du|des|la|le|d['’]\S+))*\.?$")

# Paywall notices: the sentences of the paywall box, never its buttons or the header's "Abonnez-vous".
PAYWALL_MARKERS = (
    re.compile(r"^Article\s+réservé\s+aux\s+abonnés\.?$", re.IGNORECASE),
    re.compile(r"^Contenu\s+réservé\s+aux\s+abonnés\.?$", re.IGNORECASE),
    re.compile(r"^Pour\s+lire\s+la\s+totalité\s+de\s+cet\s+article\b.*$", re.IGNORECASE),
    re.compile(r"^Cet\s+article\s+est\s+réservé\s+aux\s+abonnés.*$", re.IGNORECASE),
)

# Fragments that lexbor looks for (`:lexbor-contains`) to find the paywall notices quickly.
PAYWALL_FRAGMENTS = ("réservé aux abonnés", "totalité de cet article")

RELATED_FRAGMENTS = ("même sujet", "L'actu", "L’actu")
BYLINE_FRAGMENT = "Par"
DOSSIER_BOX_FRAGMENT = "fait partie du dossier"
COMMENT_TIME_FRAGMENT = "h:"  # the time of 'pseudo - 12/03/2018 14h:02'
THEMES_FRAGMENT = "abordés"
DOSSIER_TOC_FRAGMENT = "sommaire"
NEXT_PAGE_FRAGMENT = "uivant"  # 'Page suivante', 'Suivant'
PAGINATION_LABEL = re.compile(r"pagination|page-numbers|nav-links|pager", re.IGNORECASE)
RELATED_SAME_SUBJECT = re.compile(r"^Sur\s+le\s+même\s+sujet$", re.IGNORECASE)
RELATED_NEWS = re.compile(r"^L['’]actu\b.*$", re.IGNORECASE)
# Sections that look like related news but are not: they are never taken as related links.
NOT_RELATED = re.compile(r"^(Les\s+plus\s+lus|Autres\s+dossiers|Dernières\s+offres|Offre)", re.IGNORECASE)
# The names of the sections of a page (a label before a list): related news, the dossier's contents, the
# distractors above, and the usual rubrique block titles.
SECTION_LABEL = re.compile(
    r"^(Sur\s+le\s+même\s+sujet|L['’]actu\b|Au\s+sommaire\b|Les\s+plus\s+lus|Autres\s+dossiers|Dernières\s+offres"
    r"|Offres?\s+d['’]emploi|[AÀ]\s+lire\s+aussi|Lire\s+aussi|[AÀ]\s+la\s+une|Nos\s+dossiers)",
    re.IGNORECASE)


def names_dossier_box(text: str) -> bool:
    """Whether `text` says that the article is part of a dossier (DOSSIER_BOX). A match starts at an 'f' or an
    'F' (no other character matches that letter when case is ignored): the regex is tried at those places only,
    rather than at every character of a paragraph, and only where an 'a' or an 'A' follows (the regex's next
    letter, which no other character matches either); a text shorter than DOSSIER_BOX_FRAGMENT (the shortest
    match) is answered at once."""
    if len(text) < len(DOSSIER_BOX_FRAGMENT):
        return False
    for letter in "fF":
        start = text.find(letter)
        while start >= 0:
            if text[start + 1:start + 2] in "aA" and DOSSIER_BOX.match(text, start):
                return True
            start = text.find(letter, start + 1)
    return False


def is_paywall_marker(sentence: str) -> bool:
    return any(pattern.match(sentence) for pattern in PAYWALL_MARKERS)


def comments_count(text: str) -> int | None:
    """The number shown before '| réagir' ('0 | réagir'), or None. The regex runs only just before each
    'agir' of the text: run over a whole page it would try every position."""
    for word in ("agir", "AGIR"):
        end = text.find(word)
        while end >= 0:
            match = COMMENTS_COUNT.search(text, max(0, end - 200), end + len(word))
            if match:
                return int(match.group(1))
            end = text.find(word, end + 1)
    return None


def byline_part(text: str) -> str:
    """The 'Par …' part of a line whose parts are separated by bullets or bars, else the line itself."""
    if "•" not in text and "|" not in text and "·" not in text:
        return text
    return next((part for part in _BYLINE_SEPARATORS.split(text) if BYLINE.match(part)), text)


def split_authors(names: str) -> list[str]:
    """'Marie Dupont et Jean-Marc Le Goff' -> ['Marie Dupont', 'Jean-Marc Le Goff']."""
    return [name for name in (part.strip() for part in AUTHOR_SEPARATORS.split(names)) if name]
