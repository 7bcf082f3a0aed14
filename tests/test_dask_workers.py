"""The coordinator's side of a cluster run, with a stand-in for Dask's client: batches sent in order and
never more than allowed at once, a batch whose workers kept dying recorded as errors (read again next
run) while the rest is stored, and nothing new sent once the time budget is used up.
tests/test_e2e_cluster.py runs the real thing on a distributed.LocalCluster."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("distributed")

from distributed import KilledWorker  # noqa: E402

from indexer.indexing.dask_workers import PHOTOS_PER_TASK, DaskAnalyser  # noqa: E402
from indexer.indexing.plan import ToRead  # noqa: E402
from indexer.indexing.store import Analysed  # noqa: E402
from indexer.indexing.scan import ScannedFile  # noqa: E402


class Future:
    def __init__(self, client, todo, dies: bool):
        self.client, self.todo, self.dies = client, todo, dies

    def result(self):
        self.client.outstanding -= 1
        if self.dies:
            raise KilledWorker("read_on_worker-1", SimpleNamespace(address="tcp://127.0.0.1:1"), 3)
        return [Analysed(item.file, None, width=10, height=10) for item in self.todo]

    def cancel(self):
        self.client.outstanding -= 1
        self.client.cancelled += 1


class Client:
    """Runs nothing: a batch's "result" is its photos read without faces; ``deadly`` batches kill workers."""

    def __init__(self, deadly: set[int]):
        self.deadly, self.sent, self.outstanding, self.most, self.cancelled = deadly, 0, 0, 0, 0

    def submit(self, function, todo, hashes, pure):
        future = Future(self, todo, self.sent in self.deadly)
        self.sent += 1
        self.outstanding += 1
        self.most = max(self.most, self.outstanding)
        return future


def analyser(client: Client, in_flight: int = 3) -> DaskAnalyser:
    made = object.__new__(DaskAnalyser)
    made.client, made.in_flight = client, in_flight
    return made


def todo(count: int) -> list[ToRead]:
    return [ToRead(ScannedFile(f"/photos/{number:03d}.jpg", 1, 1), None) for number in range(count)]


def test_batches_come_back_in_order_with_a_bounded_number_in_flight_and_a_deadly_batch_as_errors():
    client = Client(deadly={2})
    photos = todo(5 * PHOTOS_PER_TASK)
    results = [item for batch in analyser(client).batches(photos) for item in batch]
    assert [r.file.path for r in results] == [p.file.path for p in photos]
    assert client.sent == 5 and client.most == 3
    failed = [r for r in results if r.error is not None]
    assert [r.file.path for r in failed] == [p.file.path for p in photos[2 * PHOTOS_PER_TASK : 3 * PHOTOS_PER_TASK]]
    assert {r.error for r in failed} == {"the cluster's workers died while reading it"}
    assert all(r.width == 10 for r in results if r.error is None)


def test_nothing_new_is_sent_once_out_of_time_and_what_was_sent_is_stored():
    client = Client(deadly=set())
    calls = iter([False, False, True])
    results = [item for batch in analyser(client, in_flight=4).batches(todo(6 * PHOTOS_PER_TASK), out_of_time=lambda: next(calls, True))
               for item in batch]
    assert client.sent == 2 and len(results) == 2 * PHOTOS_PER_TASK and client.cancelled == 0
