"""Reading photos on the workers of a Dask scheduler: the heavy part of a run (decode, detect, embed) on other machines.

Imported only when a scheduler is used (it imports ``distributed``). The host running
`indexer index --scheduler tcp://scheduler:8786` scans and plans as always, stores every
result itself (one writer to the database: the lock, the transactions, the names carried over, all as in
a local run) and sends only the reading out: batches of photos (``PHOTOS_PER_TASK``) to the workers,
at most ``IN_FLIGHT_PER_THREAD`` per worker thread at a time, so the coordinator's memory stays flat
whatever the size of the library. Each worker loads the models once (``AnalyserPlugin``) from its own
models folder (`indexer models fetch` on every host) and reads the photos at the same paths (a shared
mount); a file it cannot read comes back as a bad file, with the reason, like in a local run.

A worker that dies mid-batch: the scheduler gives its batches to another worker, up to
``distributed.scheduler.allowed-failures`` times (Dask's default: 3); a batch that killed that many
workers is recorded as errors (each photo read again next run), never stored twice, and the run goes
on. Results are stored in the order the batches were sent.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from distributed import WorkerPlugin

from indexer.indexing.analyse import FaceAnalyser
from indexer.indexing.plan import ToRead
from indexer.indexing.store import Analysed

if TYPE_CHECKING:
    from indexer.config import Config

log = logging.getLogger(__name__)

PHOTOS_PER_TASK = 8
IN_FLIGHT_PER_THREAD = 2
PLUGIN_NAME = "indexer-analyser"


class AnalyserPlugin(WorkerPlugin):
    """A Dask worker plugin: the FaceAnalyser of ``config`` on that worker, its models loaded once, from
    the worker's own models folder ($INDEXER_MODELS_DIR, else its user cache)."""

    name = PLUGIN_NAME

    def __init__(self, config: Config):
        self.config = config
        self.analyser: FaceAnalyser | None = None

    def setup(self, worker) -> None:
        from pathlib import Path

        from indexer.config import MODELS_DIR_ENV, user_cache_dir

        models_dir = Path(os.environ.get(MODELS_DIR_ENV) or user_cache_dir() / "models")
        self.analyser = FaceAnalyser.for_config(replace(self.config, embedding=replace(self.config.embedding, models_dir=models_dir)))

    def teardown(self, worker) -> None:
        self.analyser = None


def read_on_worker(todo: list[ToRead], hashes: dict[str, str]) -> list[Analysed]:
    """What a worker runs: the photos of one batch, read as a local run reads them."""
    from distributed import get_worker

    analyser = get_worker().plugins[PLUGIN_NAME].analyser
    return [item for batch in analyser.batches(todo, hashes) for item in batch]


class DaskAnalyser:
    """FaceAnalyser's ``batches``, with the reading done by the workers of the Dask scheduler at ``address``."""

    def __init__(self, config: Config, address: str):
        from distributed import Client

        try:
            self.client = Client(address, timeout="30s")
        except OSError as e:
            from indexer.errors import IndexerError

            raise IndexerError(f"cannot reach the Dask scheduler at {address}: {e}") from e
        self.client.register_plugin(AnalyserPlugin(config), name=PLUGIN_NAME)
        threads = sum(self.client.nthreads().values()) or 1
        self.in_flight = IN_FLIGHT_PER_THREAD * threads
        log.info("reading on the workers of the Dask scheduler at %s: %d worker(s), %d thread(s)", address, len(self.client.nthreads()), threads)

    def close(self) -> None:
        self.client.close()

    def batches(self, todo: list[ToRead], hashes: dict[str, str] | None = None,
                out_of_time: Callable[[], bool] = lambda: False, progress=None) -> Iterator[list[Analysed]]:
        """As ``FaceAnalyser.batches``: the results of each task, in the order sent. No new task is sent
        once ``out_of_time()``; those sent are waited for and stored."""
        from distributed import KilledWorker

        hashes = dict(hashes or {})
        chunks = [todo[i : i + PHOTOS_PER_TASK] for i in range(0, len(todo), PHOTOS_PER_TASK)]
        sent: deque = deque()
        next_chunk = 0
        try:
            while sent or next_chunk < len(chunks):
                while next_chunk < len(chunks) and len(sent) < self.in_flight and not out_of_time():
                    chunk = chunks[next_chunk]
                    chunk_hashes = {item.file.path: hashes[item.file.path] for item in chunk if item.file.path in hashes}
                    sent.append((chunk, self.client.submit(read_on_worker, chunk, chunk_hashes, pure=False)))
                    next_chunk += 1
                if not sent:
                    break  # out of time
                chunk, future = sent.popleft()
                try:
                    results = future.result()
                except KilledWorker as e:
                    log.warning("%d photo(s) not read: the workers reading them died (%s); they are read again next run",
                                len(chunk), e)
                    results = [Analysed(item.file, None, error="the cluster's workers died while reading it") for item in chunk]
                for item, result in zip(chunk, results, strict=True):
                    result.before = item.before
                if progress is not None:
                    progress.update(len(chunk))
                yield results
        finally:
            for _, future in sent:
                future.cancel()
