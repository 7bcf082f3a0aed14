"""TensorFlow, imported on first use only and without its native start-up chatter.

TensorFlow's C++ side prints CUDA probing and oneDNN notices straight to file descriptor 2 on every
start, whatever TF_CPP_MIN_LOG_LEVEL says. ``quiet_native_logs`` sends descriptor 2 to a temporary file
while a model loads, and replays what was caught if the load fails. With ``-v`` nothing is hidden.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hide what native code writes to stderr inside the block, unless debug logging is on."""
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        failed = False
        try:
            yield
        except Exception:  # not on ^C: then the chatter is of no use
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                caught.seek(0)
                sys.stderr.write(caught.read().decode("utf-8", "replace"))
                sys.stderr.flush()


def load_tensorflow():
    """The ``tensorflow`` module, imported quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_logs():
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf
