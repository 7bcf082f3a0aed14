"""Ids (of faces, people, clusters, photos, events) and whole numbers as users type them: one rule for the
CLI, the app and the library. An id is a 64-bit database key from 1 up; a number is read only from plain
ASCII digits ("²", "٣", "-1", " 7" and "1e3" are no number)."""

from __future__ import annotations

ID_LIMIT = 2**63  # ids are below this (a signed 64-bit key); a larger one names nothing


def is_id(value: object) -> bool:
    """Whether ``value`` is an int that can be an id (1 up to ID_LIMIT − 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < ID_LIMIT


def plain_digits(text: object) -> int | None:
    """``text`` as a number when it is written in plain ASCII digits (however many), else None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def whole_number(text: object, below: int = ID_LIMIT) -> int | None:
    """``text`` as a whole number from 1 up to ``below`` − 1 when it is written in plain ASCII digits, else
    None."""
    number = plain_digits(text) if isinstance(text, str) and len(text) <= 19 else None
    return number if number is not None and 0 < number < below else None


def integer(text: str) -> int | None:
    """``text`` as an integer when it is plain ASCII digits with an optional leading "-" (a pixel
    coordinate), else None."""
    digits = text.removeprefix("-")
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(text)
