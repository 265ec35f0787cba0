"""The words of what people type in French, as the full-text index stores them, and the forms they stand for.

A word is folded as the index's tokenizer folds it (unicode61, remove_diacritics: lower case, no accents), its
ligatures spelt out (œ → oe, æ → ae: the tokenizer keeps them), and matched by its stem in Snowball's French
stemmer (PyStemmer, a C extension): "chaussées" and "chaussee" share the stem "chausse". No SQL here:
scraper.archive.search asks the index for the terms these functions accept.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from scraper.errors import InvalidQuery

# A query's size, bounded: each word is looked up in the index's vocabulary (thousands of words took minutes).
MAX_QUERY_WORDS = 32
MAX_QUERY_CHARS = 1000
# What unicode61 takes as a token: letters and digits (an underscore separates).
WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = "'’ʼ‘`´"
_ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"})
# The commonest French words, left out of a query that has other words (they are in nearly every article).
_STOPWORDS = frozenset({
    "a", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "est", "et", "il", "ils", "la",
    "le", "les", "leur", "leurs", "mais", "ne", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se",
    "ses", "son", "sur", "un", "une", "y",
})
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """`text` as the index stores its words: lower case, accents removed (unicode61's remove_diacritics)."""
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text.lower())))


def spelt(text: str) -> str:
    """`text` folded, its ligatures spelt out (œ → oe, æ → ae)."""
    return fold(text).replace("œ", "oe").replace("æ", "ae")


@cache
def stem(word: str) -> str:
    """The key a word is matched by: folded, ligatures spelt out (œ → oe), through the French Snowball stemmer."""
    return _stemmer().stemWord(spelt(word))


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("french")


def word_keys(word: str) -> frozenset[str]:
    """The stems a query word is matched by: its own, and its singular's for a plural in s or x, which the
    stemmer does not always bring together ("hivers" → hiver, "hiver" → hiv)."""
    keys = {stem(word)}
    if len(word) > 3 and word[-1] in "sxSX":
        keys.add(stem(word[:-1]))
    return frozenset(keys)


def query_words(query: str) -> tuple[list[str], bool]:
    """The words of a typed query, folded, each inflection once: elided articles (l', qu'…) left out, and the
    commonest small words when others remain; a query of small words alone ("C'est") is its words as a phrase
    (True). Raises InvalidQuery for a query too long or without a word."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"search query too long: {len(query)} characters (at most {MAX_QUERY_CHARS})")
    tokens = list(WORD.finditer(query))
    if len(tokens) > MAX_QUERY_WORDS:
        raise InvalidQuery(f"search query too long: {len(tokens)} words (at most {MAX_QUERY_WORDS})")
    if not tokens:
        raise InvalidQuery(f"no word to search for in {query!r}")
    words: dict[str, str] = {}
    for token in tokens:
        elided = token.end() < len(query) and query[token.end()] in _APOSTROPHES
        if not (elided and token.group().lower() in _ELISIONS):
            words.setdefault(stem(token.group()), fold(token.group()))
    kept = [word for word in words.values() if word not in _STOPWORDS]
    if kept:
        return kept, False
    return [fold(token.group()) for token in tokens], True


def prefixes(word: str, keys: frozenset[str]) -> set[str]:
    """What every indexed form of a word begins with: the part of the word its stem keeps, less a letter
    (chevaux → cheval: "chev"), spelt with and without ligatures."""
    written = spelt(word)
    common = min(_common_length(written, key) for key in keys)
    prefix = written[:max(min(common, 3), common - 1)] or written
    variants = {prefix}
    for plain, ligature in (("oe", "œ"), ("ae", "æ")):
        variants |= {variant.replace(plain, ligature) for variant in variants}
    return variants


def _common_length(one: str, other: str) -> int:
    length = 0
    while length < min(len(one), len(other)) and one[length] == other[length]:
        length += 1
    return length


def finder(forms: set[str]) -> Any:
    """Whether a text holds one of `forms` as a word, once folded as the index folds it."""
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True)))
                         + r")(?![^\W_])")
    return lambda text: pattern.search(spelt(text)) is not None
