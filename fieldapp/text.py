"""Vietnamese text: normalisation, proper case, tone-insensitive search keys and sort order."""

import re
import unicodedata

# U+00D0 (Latin capital eth) looks like Đ and is typed by some keyboards and old lists in its place.
_ETH = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})
_SPACES = re.compile(r"\s+")

# The Vietnamese alphabet in dictionary order; each letter sorts as one unit ("đ" after "d").
ALPHABET = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
_LETTER_RANK = {letter: rank for rank, letter in enumerate(ALPHABET)}

# Tone marks as combining characters, in the Vietlex dictionary order:
# none, huyền (grave), hỏi (hook), ngã (tilde), sắc (acute), nặng (dot below).
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}

# Combining marks that change the letter itself rather than its tone.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}


def clean(value: object) -> str:
    """Return a value as NFC text with Ð mapped to Đ and runs of white space collapsed."""
    if value is None:
        return ""

    text = unicodedata.normalize("NFC", str(value)).translate(_ETH)
    return _SPACES.sub(" ", text).strip()


def proper_case(name: str) -> str:
    """Capitalise the first letter of every word and lower the rest ("TRẦN VĂN AN" -> "Trần Văn An")."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in name.split(" ") if word)


def fold(text: str) -> str:
    """Return a search key without tone or vowel marks, lower case, with đ as d."""
    decomposed = unicodedata.normalize("NFD", clean(text).lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d")


def _word_key(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return (letters, tones) ranks of one word so that letters decide before tones."""
    letters: list[int] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONE_RANK:
            tones[-1:] = [_TONE_RANK[ch]]
            continue
        if ch in _LETTER_MARKS and letters:
            composed = unicodedata.normalize("NFC", ALPHABET[letters[-1]] + ch) if letters[-1] < len(ALPHABET) else ""
            letters[-1] = _LETTER_RANK.get(composed, letters[-1])
            continue
        if unicodedata.combining(ch):
            continue
        letters.append(_LETTER_RANK.get(ch, len(ALPHABET) + ord(ch)))
        tones.append(0)
    return tuple(letters), tuple(tones)


def name_sort_key(full_name: str) -> tuple:
    """Return the official-list sort key: given name, then middle names, then family name.

    Each word is compared whole, letters before tones, and tones in the Vietlex order
    (none, huyền, hỏi, ngã, sắc, nặng), before the next word is looked at.
    """
    words = clean(full_name).split(" ")
    if len(words) > 1:
        words = [words[-1], *words[1:-1], words[0]]
    return tuple(_word_key(word) for word in words if word)


def sort_key_text(full_name: str) -> str:
    """Return name_sort_key as a string that SQLite can ORDER BY byte-wise."""
    # Separators sort below digits and below each other (" " < "," < ".") so that a shorter
    # word or name sorts first, as the tuple comparison does.
    words = []
    for letters, tones in name_sort_key(full_name):
        words.append(".".join(f"{n:03d}" for n in letters) + "," + "".join(str(t) for t in tones))
    return " ".join(words)


# "oa", "oe" and "uy" at the end of a word, tone on the second vowel, not after "q" ("quý" is right).
_OLD_TONE = re.compile(r"(?i)(?<!q)(o[àáảãạ]|u[ỳýỷỹỵ]|o[èéẻẽẹ])(?![^\W\d_])")


def modern_tones(text: str) -> str:
    """Put the tone of a final "oa", "oe" or "uy" on its first vowel ("hoà" -> "hòa", "thuỷ" -> "thủy")."""

    def move(match: re.Match) -> str:
        first, second = match.group(0)[0], match.group(0)[1]
        decomposed = unicodedata.normalize("NFD", second)
        tone = "".join(ch for ch in decomposed if ch in _TONE_RANK)
        base = "".join(ch for ch in decomposed if ch not in _TONE_RANK)
        return unicodedata.normalize("NFC", first + tone) + base

    return _OLD_TONE.sub(move, unicodedata.normalize("NFC", text))
