"""Text cleaning and tokenisation shared by training and suggestion.

Raw text and pre-tokenised text (space-joined jieba tokens) end up the same way: whitespace
between Chinese characters is removed before jieba cuts the text again, so both kinds of rows
give the same word and character features.
"""

from __future__ import annotations

import logging
import re
import threading

import jieba

jieba.setLogLevel(logging.WARNING)

_ARTEFACT = re.compile(r"_x000D_|\\[rnt]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")
_KEEP = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+", re.IGNORECASE)
_init_lock = threading.Lock()
_initialised = False


def clean(text: str) -> str:
    """Remove spreadsheet artefacts and collapse whitespace (none is kept between Chinese characters)."""
    text = _ARTEFACT.sub(" ", text or "")
    text = _SPACE.sub(" ", text).strip()
    return _CJK_SPACE.sub("", text)


def _ensure_jieba() -> None:
    global _initialised
    if not _initialised:
        with _init_lock:
            if not _initialised:
                jieba.initialize()
                _initialised = True


def words(text: str) -> list[str]:
    """jieba tokens of the cleaned text, lower-cased, without punctuation or single spaces."""
    _ensure_jieba()
    out = []
    for token in jieba.lcut(clean(text)):
        token = token.strip().lower()
        if token and _KEEP.search(token):
            out.append(token)
    return out


def chars(text: str) -> str:
    """The cleaned text with spaces and punctuation removed: the input of character n-grams."""
    return "".join(_KEEP.findall(clean(text).lower()))


def analyse_words(text: str) -> list[str]:
    """Analyzer for a word vectorizer: tokens and adjacent token pairs."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def analyse_chars(text: str) -> list[str]:
    """Analyzer for a character vectorizer: character 1-, 2- and 3-grams."""
    s = chars(text)
    grams = list(s)
    grams += [s[i : i + 2] for i in range(len(s) - 1)]
    grams += [s[i : i + 3] for i in range(len(s) - 2)]
    return grams
