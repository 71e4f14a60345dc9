"""Text cleaning and tokenisation shared by training and suggestion.

Two kinds of text arrive: raw text (a ticket, a board message) and pre-tokenised text (jieba
tokens joined by spaces, as some labelled data sets ship, often with stopwords removed). Raw
text is cut by jieba; pre-tokenised text is split at its spaces, so that the same message
gives the same tokens either way. A model may also drop the stopwords of the tokeniser that
made its pre-tokenised rows (`TextClassifier` learns them from its training data), which makes
raw text look like those rows.

Only the first `SEGMENT_CHARS` characters are segmented: jieba costs about 2.5 µs per
character, and the beginning of a request (its title, the first sentences) carries its
category; the rest of a long board message changes little (measured in
benchmarks/assist_cv.py).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection

import jieba

jieba.setLogLevel(logging.WARNING)

#: Characters of cleaned text segmented by jieba (and, for pre-tokenised text, kept).
SEGMENT_CHARS = 300
#: Characters at the start of the token text that also count as "head" features (the title).
HEAD_CHARS = 10

_ARTEFACT = re.compile(r"_x000D_|\\[rnt]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_CJK = r"[\u3000-\u9fff\uff00-\uffef]"
_CJK_SPACE = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# How an intake agent opens a hotline ticket ("市民来电反映", "来电人称", ...): no category in it,
# and it would take the place of the title among the head features.
_REPORTER = re.compile(r"^(?:市民|群众|居民|来电人|来电者|来电)(?:来电)?人?(?:反映|称|表示|诉称)[：:，,]?\s*")
_KEEP = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+", re.IGNORECASE)
_init_lock = threading.Lock()
_initialised = False


def clean(text: str) -> str:
    """Remove spreadsheet artefacts and collapse whitespace (none is kept between Chinese characters)."""
    text = _ARTEFACT.sub(" ", text or "")
    text = _SPACE.sub(" ", text).strip()
    return _CJK_SPACE.sub("", text)


def pretokenised(text: str) -> bool:
    """Whether `text` looks like space-joined tokens: at least three gaps between Chinese
    characters, and one for every five Chinese characters (written Chinese has next to none)."""
    gaps = len(_CJK_SPACE.findall(text))
    return gaps >= 3 and gaps * 5 >= len(_HAN.findall(text))


def _ensure_jieba() -> None:
    global _initialised
    if not _initialised:
        with _init_lock:
            if not _initialised:
                jieba.initialize()
                _initialised = True


def _keep(token: str) -> str | None:
    token = token.strip().lower()
    return token if token and _KEEP.search(token) else None


def raw_tokens(text: str, limit: int = SEGMENT_CHARS) -> list[str]:
    """Tokens of about the first `limit` characters, lower-cased, without punctuation and
    spaces, stopwords not removed: jieba's for raw text (after the agent's opening words, as in
    "市民来电反映"), the given ones for pre-tokenised text."""
    text = _ARTEFACT.sub(" ", text or "")
    out: list[str] = []
    if pretokenised(text):
        used = 0
        for token in text.split():
            if used >= limit:
                break
            used += len(token)
            kept = _keep(token)
            if kept:
                out.append(kept)
        return out
    _ensure_jieba()
    for token in jieba.lcut(_REPORTER.sub("", clean(text), count=1)[:limit]):
        kept = _keep(token)
        if kept:
            out.append(kept)
    return out


def words(text: str, stopwords: Collection[str] = (), limit: int = SEGMENT_CHARS) -> list[str]:
    """The tokens of `text` (see `raw_tokens`) without `stopwords`."""
    tokens = raw_tokens(text, limit)
    return [t for t in tokens if t not in stopwords] if stopwords else tokens


def word_features(tokens: list[str]) -> list[str]:
    """Tokens and adjacent token pairs."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def char_ngrams(s: str, longest: int = 3) -> list[str]:
    """Character 1- to `longest`-grams of `s`."""
    grams = list(s)
    for n in range(2, longest + 1):
        grams += [s[i : i + n] for i in range(len(s) - n + 1)]
    return grams


def head_features(tokens: list[str], size: int = HEAD_CHARS) -> list[str]:
    """Character 1–3-grams of the first `size` characters, marked as such (the title)."""
    return ["^" + g for g in char_ngrams("".join(tokens)[:size])]


def chars(text: str) -> str:
    """The token characters of `text`: no spaces, no punctuation."""
    return "".join(words(text))


def analyse_words(text: str) -> list[str]:
    """Word features of a text: its tokens and adjacent token pairs."""
    return word_features(words(text))


def analyse_chars(text: str) -> list[str]:
    """Character features of a text: 1-, 2- and 3-grams of its token characters."""
    return char_ngrams(chars(text))
