"""A person's name: what a name may be, and which person a name typed by the user means. Standard library
only: the fast answers (``find``) use it too.

A name is unique regardless of case and Unicode form ("lloyd" and "Lloyd", "Zoë" composed or not, are one
person).
"""

from __future__ import annotations

import difflib
import unicodedata

from indexer.errors import IndexerError

MAX_NAME_LENGTH = 200


class PersonNotFound(IndexerError):
    """No person has that name; the message suggests the closest names."""


class BadName(IndexerError):
    """A name that cannot be a person's: empty, too long, or holding control characters."""


def clean_name(name: str) -> str:
    """``name`` in Unicode's composed form (NFC), surrounding space removed; BadName when it is empty,
    longer than MAX_NAME_LENGTH characters, holds a control or formatting character (a newline, a tab, a
    right-to-left override that would reverse how the rest is shown) or a line or paragraph separator, or
    shows nothing of its own (combining accents alone, or one first, with nothing to sit on)."""
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise BadName("a person's name cannot be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise BadName(f"a person's name can have at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") or unicodedata.category(ch) in ("Zl", "Zp") for ch in cleaned):
        raise BadName(f"a person's name cannot contain control characters or line breaks: {cleaned!r}")
    if unicodedata.category(cleaned[0]).startswith("M") or not any(unicodedata.category(ch)[0] in "LNSP" for ch in cleaned):
        raise BadName(f"a person's name needs a letter, digit or sign to show, and cannot begin with an accent alone: {cleaned!r}")
    return cleaned


def match_name(name: str, names: list[str]) -> str | None:
    """Which of ``names`` ``name`` means: the same after Unicode normalisation and trimming, else the
    only one equal ignoring case; None when none is."""
    name = unicodedata.normalize("NFC", name).strip()
    if name in names:
        return name
    folded = [n for n in names if unicodedata.normalize("NFC", n).casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def person_not_found(name: str, names: list[str]) -> PersonNotFound:
    """The error for a name nobody has, naming up to three close ones."""
    by_fold = {n.casefold(): n for n in names}
    close = [by_fold[n] for n in difflib.get_close_matches(name.casefold(), list(by_fold), n=3, cutoff=0.5)]
    if close:
        hint = "closest: " + ", ".join(close)
    elif names:
        hint = "`indexer people` lists everyone"
    else:
        hint = "nobody is named yet: use `indexer enroll` or `indexer label`"
    return PersonNotFound(f"no person named {name!r} ({hint})")
