"""End to end, the nightly run on a Dask cluster: a real distributed.LocalCluster with two worker
processes (one thread each) reads the photos with the real models; the coordinating `indexer index`
stores them. The faces are exactly a local run's; bad files are recorded with their reasons; a worker
killed mid-run loses nothing and stores nothing twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from support.e2e import Indexer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed", reason="dask's distributed is not installed (pip install -e '.')")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield cluster, client
    client.close()
    cluster.close()


def faces(indexer: Indexer) -> list[tuple]:
    return indexer.query("SELECT photos.path, box_x, box_y, box_w, box_h, embedding FROM faces "
                         "JOIN photos ON photos.id = faces.photo_id ORDER BY photos.path, box_x, box_y")


def test_a_cluster_run_stores_exactly_the_faces_of_a_local_run_and_records_bad_files(dask_cluster, sample, tmp_path):
    cluster, _ = dask_cluster
    library = tmp_path / "library"
    shutil.copytree(sample.celebrities / "val", library / "val")
    shutil.copy2(sample.group_photo, library / "group.jpg")
    (library / "broken.jpg").write_bytes(b"not a photo at all")
    on_cluster, local = Indexer(tmp_path / "cluster"), Indexer(tmp_path / "local")
    run = on_cluster.json("index", str(library), "--scheduler", cluster.scheduler_address)
    assert local.json("index", str(library)) | {"seconds": 0} == run | {"seconds": 0}
    assert (run["new"], run["errors"]) == (27, 1)
    assert on_cluster.query("SELECT error FROM photos WHERE path LIKE '%broken.jpg'") == \
        local.query("SELECT error FROM photos WHERE path LIKE '%broken.jpg'") == [("not an image (no decoder recognises its content)",)]
    ours, theirs = faces(on_cluster), faces(local)
    assert [row[:5] for row in ours] == [row[:5] for row in theirs] and len(ours) == 34
    difference = max(float(np.abs(np.frombuffer(a[5], np.float32) - np.frombuffer(b[5], np.float32)).max())
                     for a, b in zip(ours, theirs))
    assert difference <= 1e-5
    again = on_cluster.json("index", str(library), "--scheduler", cluster.scheduler_address)
    assert again["new"] == again["changed"] == again["faces_added"] == 0  # nothing changed: nothing to read
    assert again | {"seconds": 0} == local.json("index", str(library)) | {"seconds": 0}
    assert on_cluster.json("check")["consistent"]


def test_a_worker_killed_mid_run_loses_no_photo_and_stores_none_twice(dask_cluster, sample, tmp_path):
    from PIL import Image

    cluster, client = dask_cluster
    library = tmp_path / "library"
    library.mkdir()
    photos = sample.photos("train")[:48]
    for number, photo in enumerate(photos):  # blown up 4 times, so the run lasts long enough to be cut
        with Image.open(photo) as image:
            image.convert("RGB").resize((image.width * 4, image.height * 4)).save(library / f"{number:02d}.jpg", quality=85)
    indexer = Indexer(tmp_path / "home")
    process = subprocess.Popen([sys.executable, "-m", "indexer", "--config", str(indexer.config), "index", str(library),
                                "--scheduler", cluster.scheduler_address, "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=indexer.env, cwd=indexer.home)
    for _ in range(1200):  # until the first results are stored
        time.sleep(0.1)
        stored = indexer.query_when_ready("SELECT count(*) FROM photos")
        if stored and stored[0][0] > 0:
            break
    victim = next(iter(client.run(os.getpid).values()))
    os.kill(victim, signal.SIGKILL)  # the nanny starts a new worker; its batches go to the other one
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    assert '"errors": 0' in out
    [(indexed,)] = indexer.query("SELECT count(*) FROM photos WHERE error IS NULL")
    assert indexed == len(photos)
    [(repeated,)] = indexer.query("SELECT count(*) FROM (SELECT photo_id, box_x, box_y FROM faces "
                                  "GROUP BY 1, 2, 3 HAVING count(*) > 1) AS repeated")
    assert repeated == 0
    report = indexer.json("check")
    assert report["consistent"] and report["vectors"]["facenet128"] == sum(report["faces"].values())
    assert victim not in client.run(os.getpid).values()  # it did die


def test_an_unreachable_scheduler_is_one_line_and_exit_1_also_under_the_old_option_name(sample, tmp_path):
    indexer = Indexer(tmp_path)
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy2(sample.group_photo, library / "group.jpg")
    done = indexer("index", str(library), "--cluster", "tcp://127.0.0.1:9", expect=1)
    assert done.stderr.strip().splitlines()[-1].startswith("indexer: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "--cluster is now called --scheduler" in done.stderr


def test_two_coordinators_on_one_postgresql_database_the_second_exits_75(postgres, sample, tmp_path):
    from PIL import Image

    from support.cli import Backend

    library = tmp_path / "library"
    library.mkdir()
    photos = sample.photos("train")  # 93, blown up: the first run stores its first batch of 32, then goes on a while
    for number, photo in enumerate(photos):
        with Image.open(photo) as image:
            image.convert("RGB").resize((image.width * 4, image.height * 4)).save(library / f"{number:02d}.jpg", quality=85)
    first = Indexer(tmp_path / "first-host", backend=Backend("postgresql", postgres))
    second = Indexer(tmp_path / "second-host", backend=Backend("postgresql", postgres))
    second.database = first.database  # the same database, another machine's data folder
    second.use_engine(None)
    process = subprocess.Popen([sys.executable, "-m", "indexer", "--config", str(first.config), "index", str(library)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=first.env, cwd=first.home)
    for _ in range(1200):
        time.sleep(0.1)
        stored = first.query_when_ready("SELECT count(*) FROM photos")
        if stored and stored[0][0] > 0:
            break
    refused = second("index", str(library), expect=75)
    assert f"another indexer index is writing to this index (pid {process.pid}, since " in refused.stderr
    assert process.wait(timeout=600) == 0
    assert second.json("index", str(library))["unchanged"] == len(photos)  # once the first is done, the second may
