"""The errors a user can cause. The CLI turns each into one line on stderr and exit status 1."""

from __future__ import annotations


class IndexerError(Exception):
    """The user asked for something that cannot be done. The message is one line, shown as is;
    ``exit_code`` is the command's exit status."""

    exit_code = 1


class ConfigError(IndexerError):
    """The configuration file is missing, unreadable or holds a wrong key or value."""


class RootNotFound(IndexerError):
    """A folder to index does not exist or is not a folder."""


class ModelUnavailable(IndexerError):
    """A face model's weights are not on disk and could not be obtained."""


class DatabaseError(IndexerError):
    """The database cannot be used by this version of indexer."""


class AlreadyRunning(IndexerError):
    """Another process is writing to the same index (an `index`, `enroll` or `train`). Exit status 75
    (EX_TEMPFAIL: try again later), so a cron wrapper can tell it from a failure."""

    exit_code = 75
