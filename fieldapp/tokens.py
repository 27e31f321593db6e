"""Invitation tokens: 24 digits, a format prefix, 21 random digits and a Damm check digit.

Digits only, because Vietnamese input methods rewrite letters that a USB scanner types:
Telex turns "DD" into "Đ" and "AA" into "Â", and VNI turns "A1" into "Á". They leave a run
of digits alone, and a phone shows its numeric keypad for digits. 21 random digits
carry 69 bits. The Damm check digit catches every single wrong digit and every swap of
two neighbours, so a typing mistake is distinguished from an unknown invitation.
"""

import re
import secrets

from stdnum import damm

PREFIX = "91"  # marks this token format; no phone (0...) or CCCD (12 digits) starts or looks like it
RANDOM_DIGITS = 21
LENGTH = len(PREFIX) + RANDOM_DIGITS + 1
_SEPARATORS = re.compile(r"[\s\-_.]+")


class TokenError(ValueError):
    """A code that is not a well-formed invitation token; `reason` names the kind of problem."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def new_token() -> str:
    """Return a new random token."""
    body = PREFIX + "".join(secrets.choice("0123456789") for _ in range(RANDOM_DIGITS))
    return body + damm.calc_check_digit(body)


def short_code(token: str) -> str:
    """Return the token in groups of four for printing and typing."""
    return " ".join(token[index:index + 4] for index in range(0, len(token), 4))


def parse_token(text: str) -> str:
    """Return the canonical token from a scanned or typed code, or raise TokenError.

    Reasons: "empty"; "foreign" (another QR code, barcode or number, not one of our tokens);
    "check_failed" (our format, but a digit was mistyped).
    """
    code = _SEPARATORS.sub("", text or "")
    if not code:
        raise TokenError("empty")
    if not (code.isascii() and code.isdigit()) or len(code) != LENGTH or not code.startswith(PREFIX):
        raise TokenError("foreign")
    if not damm.is_valid(code):
        raise TokenError("check_failed")
    return code
