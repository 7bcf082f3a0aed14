"""Text fit to print on one line: names and paths from the outside world can hold anything; times in a
video as people read them."""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` fit for one field of a line of output: control and formatting characters (a newline or tab
    in a file name, a right-to-left override in a name) escaped as ``\\n``, ``\\t``, ``\\u202e``, so no
    name can forge a line or a field, or turn what follows it around."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def time_text(seconds: float) -> str:
    """A time in a video as people read it: ``mm:ss`` (``h:mm:ss`` from an hour), whole seconds."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
