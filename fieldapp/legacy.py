"""Legacy Vietnamese encodings (TCVN3 and VNI-Windows) in spreadsheet text: detect, decode, encode.

Old Excel files show Vietnamese through 8-bit fonts (.VnTime for TCVN3, VNI-Times for VNI-Windows).
openpyxl returns such a cell as a str in which every legacy byte is the Windows-1252 character of
that byte, so "Nguyễn" arrives as "NguyÔn" (TCVN3) or "Nguyeãn" (VNI). All tables here work on
those characters. Bytes 0x80-0x9F are not used by either table.

Sources of the tables: TCVN3 is the ABC (VN3) subset of TCVN 5712:1993, checked against glibc
iconv's TCVN5712-1 and tcvn.h of xvnkb (github.com/lamdao/xvnkb, 2002). The VN1 capitals with
tone marks (bytes 0x01-0x17, 0x80-0x9F and a few above 0xA0) are not decoded, because ABC fonts
do not have them. VNI-Windows follows vni.h of xvnkb and charsets.ts of the npm package
vietnamese-conversion (github.com/duydev/vietnamese-conversion), which agree.
"""

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

# --- Tables -----------------------------------------------------------------------------------

# TCVN3 (ABC): Ă Â Ê Ô Ơ Ư Đ, their lower-case forms, then the 60 lower-case letters with a tone.
# VN3 has no capitals with tone marks, so users typed the lower-case code. All-caps headings
# used the .VnTimeH font, which draws lower-case codes as capitals.
_TCVN3_CODES = (
    "¡¢£¤¥¦§¨©ª«¬\xad®"
    "µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ"
)
_TCVN3_LETTERS = (
    "ĂÂÊÔƠƯĐăâêôơưđ"
    "àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
_TCVN3_DECODE = str.maketrans(_TCVN3_CODES, _TCVN3_LETTERS)
_TCVN3_ENCODE = {letter: code for code, letter in zip(_TCVN3_CODES, _TCVN3_LETTERS)}
_TCVN3_CODE_SET = set(_TCVN3_CODES)

# Combining tone marks in the order VNI uses for its mark characters: acute, grave, hook, tilde, dot.
_TONES = "\u0301\u0300\u0309\u0303\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"

# VNI-Windows writes a base letter followed by one mark character: a tone alone, or a
# circumflex or breve with no tone or one of the five tones. After a capital base letter
# the capital form of the mark character is used.
_VNI_TONE_MARKS, _VNI_CIRCUMFLEX_MARKS, _VNI_BREVE_MARKS = "ùøûõï", "âáàåãä", "êéèúüë"
_VNI_MARKS = {
    mark: (quality, tone)
    for quality, marks, tones in (
        ("", _VNI_TONE_MARKS, list(_TONES)),
        (_CIRCUMFLEX, _VNI_CIRCUMFLEX_MARKS, ["", *_TONES]),
        (_BREVE, _VNI_BREVE_MARKS, ["", *_TONES]),
    )
    for lower, tone in zip(marks, tones)
    for mark in (lower, lower.upper())
}

# Letters that VNI writes as one character: i with a tone, ỵ, đ, ơ, ư.
_VNI_SINGLES = dict(zip("íìæóòîñôöÍÌÆÓÒÎÑÔÖ", "íìỉĩịỵđơưÍÌỈĨỊỴĐƠƯ"))
_VNI_SINGLE_OF = {letter: code for code, letter in _VNI_SINGLES.items()}
_VNI_BASES = {"ô": "ơ", "ö": "ư", "Ô": "Ơ", "Ö": "Ư"}
_VNI_PATTERN = re.compile(
    "([aeouyAEOUYôöÔÖ])([" + "".join(_VNI_MARKS) + "])|([" + "".join(_VNI_SINGLES) + "])"
)

# Characters that are TCVN3 or VNI codes but never occur in Unicode Vietnamese text.
# Ð (U+00D0) is left out because lists often type it for Đ, and words are judged with it read as Đ.
_VIETNAMESE_LATIN1 = set("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý")
_LEGACY_ONLY = set(_TCVN3_CODES) - _VIETNAMESE_LATIN1 - {"Ð"}
_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})

# --- Vietnamese syllable structure --------------------------------------------------------------

_ALPHABET = set("abcdđeghiklmnopqrstuvxyăâêôơư")
_ONSETS = ("ngh", "ng", "gh", "gi", "kh", "ch", "nh", "ph", "th", "tr", "qu",
           "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
_CODAS = ("ng", "nh", "ch", "c", "m", "n", "p", "t", "")
_STOP_CODAS = {"c", "ch", "p", "t"}

# Vowel clusters (medial, nucleus and glide) with the positions that may carry the tone
# mark, and a suffix: "+" needs a consonant coda, "-" takes none. Two positions mean old
# and new styles differ (hoà/hòa, khoẻ/khỏe, thuỷ/thủy).
_CLUSTER_SPEC = (
    "a:0 ă:0+ â:0+ e:0 ê:0 i:0 o:0 ô:0 ơ:0 u:0 ư:0 y:0 "
    "ai:0- ao:0- au:0- ay:0- âu:0- ây:0- eo:0- êu:0- ia:0- iu:0- oi:0- ôi:0- ơi:0- "
    "ui:0- ưi:0- ưu:0- ua:0- ưa:0- iê:1+ yê:1+ uô:1+ ươ:1+ oă:1+ uâ:1+ oo:1+ "
    "oa:01 oe:01 uy:01 uê:1 uơ:1- uyê:2+ uya:1- uyu:1- oai:1- oay:1- oao:1- oeo:1- "
    "uây:1- uôi:1- ươi:1- ươu:1- iêu:1- yêu:1-"
)
_CLUSTERS = {
    cluster: ({int(digit) for digit in rule.rstrip("+-")}, rule[-1] if rule[-1] in "+-" else "")
    for cluster, rule in (entry.split(":") for entry in _CLUSTER_SPEC.split())
}

_WORD = re.compile(r"[^\W\d_]+")
_CONSONANTS_ONLY = re.compile(r"[b-df-hj-np-tv-xzđB-DF-HJ-NP-TV-XZĐ]+")


def _split_tones(word: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Split a word into letters without tone marks and (letter index, tone mark) pairs."""
    letters: list[str] = []
    tones: list[tuple[int, str]] = []
    for char in unicodedata.normalize("NFC", word):
        decomposed = unicodedata.normalize("NFD", char)
        marks = decomposed[1:]
        tones.extend((len(letters), mark) for mark in marks if mark in _TONES)
        letter_marks = "".join(mark for mark in marks if mark not in _TONES)
        letters.append(unicodedata.normalize("NFC", decomposed[0] + letter_marks))
    return letters, tones


def _is_valid_parse(onset: str, cluster: str, coda: str, tone: tuple[int, str] | None) -> bool:
    """Check one onset + vowel cluster + coda split against Vietnamese spelling rules."""
    if cluster not in _CLUSTERS:
        return False
    positions, coda_rule = _CLUSTERS[cluster]
    if (coda_rule == "+" and not coda) or (coda_rule == "-" and coda):
        return False

    # "ch" and "nh" close only syllables whose vowel ends in a, ê, i or y (anh, ênh, inh, uynh).
    if coda in ("ch", "nh") and cluster[-1] not in "aêiy":
        return False
    # A lone y takes a consonant coda only after qu (quýt, quỳnh).
    if cluster == "y" and coda and onset != "qu":
        return False

    # Spelling of /k/, /ɣ/ and /ŋ/: k, gh and ngh go before front vowels, and c, g and ng elsewhere.
    front = cluster[0] in "eêiy"
    if onset in ("k", "gh", "ngh") and not front:
        return False
    if onset in ("c", "ng") and front:
        return False
    if onset == "g" and cluster[0] in "eêy":
        return False

    if tone is not None:
        index, mark = tone
        # Old and new styles differ only in open syllables: "hoàng" is the same in both.
        if coda and len(positions) > 1:
            positions = {1}
        if index - len(onset) not in positions:
            return False
        # "oo" occurs only in loanwords such as xoong and moóc, never with other tones.
        if cluster == "oo" and mark != "\u0301":
            return False
        # Syllables closed by a stop (c, ch, p, t) carry only the acute or dot-below tone.
        if coda in _STOP_CODAS and mark not in ("\u0301", "\u0323"):
            return False
    elif coda in _STOP_CODAS:
        return False
    return True


# Names and addresses repeat across a ward's lists, so the same words and cells come back often.
@functools.lru_cache(maxsize=100_000)
def is_vietnamese_word(word: str) -> bool:
    """Check whether a word is a plausible Vietnamese syllable in either tone-placement style."""
    if not word or not word.isalpha():
        return False
    if word.isascii():
        return True

    letters, tones = _split_tones(word.translate(_ETH).lower())
    if len(tones) > 1 or any(letter not in _ALPHABET for letter in letters):
        return False
    bare = "".join(letters)
    tone = tones[0] if tones else None
    for onset in _ONSETS:
        if not bare.startswith(onset):
            continue
        rest = bare[len(onset):]
        for coda in _CODAS:
            if rest.endswith(coda) and len(rest) > len(coda):
                cluster = rest[: len(rest) - len(coda)]
                if _is_valid_parse(onset, cluster, coda, tone):
                    return True
    return False


def _scored_words(text: str) -> list[str]:
    """Return the words of text that have a non-ASCII letter and a vowel."""
    # Words without a vowel are abbreviations such as SĐT or HĐND and are not scored.
    return [
        word
        for word in _WORD.findall(unicodedata.normalize("NFC", text).translate(_ETH))
        if not word.isascii() and not _CONSONANTS_ONLY.fullmatch(word)
    ]


def vietnamese_score(text: str) -> float:
    """Return the share of words with non-ASCII letters that are valid Vietnamese (1.0 if none)."""
    words = _scored_words(text)
    if not words:
        return 1.0
    return sum(is_vietnamese_word(word) for word in words) / len(words)


# --- TCVN3 --------------------------------------------------------------------------------------

def decode_tcvn3(text: str) -> str:
    """Convert TCVN3 (ABC, .VnTime font) text to NFC Unicode."""
    # All-caps text was shown through .VnTimeH, which draws lower-case codes as capitals.
    # One all-caps word of two or more ASCII letters is needed, because a name such as
    # "B¸ Kú" (Bá Kỳ) has only capital ASCII letters too.
    if not any(char.isascii() and char.islower() for char in text) and any(
        sum(char.isascii() and char.isalpha() for char in word) >= 2 for word in text.split()
    ):
        return unicodedata.normalize("NFC", text.translate(_TCVN3_DECODE).upper())

    # re.split keeps the white space at odd indexes, so words sit at even ones.
    parts = re.split(r"(\s+)", text)
    result = [part.translate(_TCVN3_DECODE) for part in parts]
    lost_capitals = []
    others_capitalized = []
    for index in range(0, len(parts), 2):
        part, word = parts[index], result[index]
        if not part:
            continue
        word_ascii = [char for char in part if char.isascii() and char.isalpha()]
        if len(word_ascii) >= 2 and all(char.isupper() for char in word_ascii):
            result[index] = word.upper()
        elif part[0] in _TCVN3_CODE_SET and word[0].islower():
            lost_capitals.append(index)
        elif word[0].isalpha():
            others_capitalized.append(word[0].isupper())

    # VN3 has no capital Á, Ấ or Ổ. So in text where every other word is capitalized (a name),
    # a word starting with such a letter was meant as a capital ("C«ng ¸n" is "Công Án").
    if others_capitalized and all(others_capitalized):
        for index in lost_capitals:
            result[index] = result[index][0].upper() + result[index][1:]
    return unicodedata.normalize("NFC", "".join(result))


def encode_tcvn3(text: str) -> str:
    """Convert Unicode text to TCVN3 (ABC), writing capitals that VN3 lacks in lower case."""
    encoded = []
    for char in unicodedata.normalize("NFC", text):
        if char in _TCVN3_ENCODE:
            encoded.append(_TCVN3_ENCODE[char])
        else:
            encoded.append(_TCVN3_ENCODE.get(char.lower(), char))
    return "".join(encoded)


# --- VNI-Windows --------------------------------------------------------------------------------

def _decode_vni_match(match: re.Match) -> str:
    """Convert one VNI base letter + mark pair, or one single-character VNI letter."""
    if match.group(3):
        return _VNI_SINGLES[match.group(3)]
    base, mark = match.group(1), match.group(2)
    quality, tone = _VNI_MARKS[mark]
    # A circumflex goes only on a, e, o and a breve only on a. VNI fonts pair a capital base
    # with the capital mark character. Any other pair is not VNI and is left as it is.
    if (
        (quality == _CIRCUMFLEX and base.lower() not in "aeo")
        or (quality == _BREVE and base.lower() != "a")
        or base.isupper() != mark.isupper()
    ):
        return _VNI_SINGLES.get(base, base) + mark
    return unicodedata.normalize("NFC", _VNI_BASES.get(base, base) + quality + tone)


def decode_vni(text: str) -> str:
    """Convert VNI-Windows (VNI-Times font) text to NFC Unicode."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(_decode_vni_match, text))


def encode_vni(text: str) -> str:
    """Convert Unicode text to VNI-Windows."""
    encoded = []
    for char in unicodedata.normalize("NFC", text):
        if char in _VNI_SINGLE_OF:
            encoded.append(_VNI_SINGLE_OF[char])
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        tone = next((mark for mark in marks if mark in _TONES), "")
        quality = next((mark for mark in marks if mark in (_CIRCUMFLEX, _BREVE, _HORN)), "")
        # Leave characters that are not Vietnamese vowels, or carry other marks, as they are.
        if base.lower() not in "aeiouy" or len(marks) != bool(tone) + bool(quality):
            encoded.append(char)
            continue
        if quality == _HORN:
            base = _VNI_SINGLE_OF[unicodedata.normalize("NFC", base + _HORN)]
        if quality in (_CIRCUMFLEX, _BREVE):
            marks_in_order = _VNI_CIRCUMFLEX_MARKS if quality == _CIRCUMFLEX else _VNI_BREVE_MARKS
            mark = marks_in_order[_TONES.index(tone) + 1 if tone else 0]
        elif tone:
            mark = _VNI_TONE_MARKS[_TONES.index(tone)]
        else:
            mark = ""
        encoded.append(base + (mark.upper() if base.isupper() else mark))
    return "".join(encoded)


# --- Detection and tone style -------------------------------------------------------------------

@functools.lru_cache(maxsize=100_000)
def fix_legacy(text: str, *, prefer: str | None = None) -> tuple[str, str | None]:
    """Decode text that reads as TCVN3 or VNI and name the encoding, or return (text, None).

    prefer ("tcvn3" or "vni") settles text that decodes to valid Vietnamese both ways, such
    as "Nhö" (TCVN3 "Nhử", VNI "Như"). Pass the result of guess_encoding for the column.
    """
    # NOTE: legacy text that is also valid Unicode Vietnamese ("Tó" for TCVN3 "Tú") is left as it is.
    if text.isascii():
        return text, None
    if vietnamese_score(text) == 1.0 and not _LEGACY_ONLY.intersection(text):
        return text, None

    candidates = {}
    for encoding, decode in (("tcvn3", decode_tcvn3), ("vni", decode_vni)):
        candidate = decode(text)
        if candidate == text or _LEGACY_ONLY.intersection(candidate):
            continue
        # A decoding counts only if it yields a Vietnamese word of two or more letters, so
        # that "§12" or "£50" do not turn into "Đ12" or "Ê50".
        words = _scored_words(candidate)
        if all(map(is_vietnamese_word, words)) and any(len(word) > 1 for word in words):
            candidates[encoding] = candidate
    if not candidates:
        return text, None
    if len(candidates) == 1:
        encoding = next(iter(candidates))
    elif prefer in candidates:
        encoding = prefer
    else:
        encoding = min(candidates, key=lambda name: _tie_rank(name, candidates[name]))
    return candidates[encoding], encoding


def _tie_rank(encoding: str, candidate: str) -> tuple[int, int]:
    """Rank a decoding of text that is valid both ways: fewer case oddities first, then VNI."""
    # A wrong decoding often breaks the casing of a name: TCVN3 "LÖ Chi" read as VNI is "LƯ Chi".
    words = [word for word in _WORD.findall(candidate) if len(word) > 1]
    odd = sum(word not in (word.lower(), word.capitalize(), word.upper()) for word in words)
    if any(word.istitle() for word in words):
        odd += sum(word.isupper() for word in words)
    # Otherwise VNI, because such text contains only characters both tables use, such as ô
    # and ö (VNI ơ and ư, TCVN3 ụ and ử). NOTE: the choice rests on synthetic encodings of
    # about 8,700 real names and addresses (1 wrong decoding against 19 with TCVN3 first).
    return odd, 0 if encoding == "vni" else 1


def guess_encoding(texts: Iterable[str]) -> str | None:
    """Return the legacy encoding that fix_legacy finds most often in texts, or None."""
    counts = Counter(fix_legacy(text)[1] for text in texts if isinstance(text, str))
    counts.pop(None, None)
    return counts.most_common(1)[0][0] if counts else None
