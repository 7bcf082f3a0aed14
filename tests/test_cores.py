"""How many photos an index run reads at once, and that the number changes nothing but the time: the cores
this process may use (affinity, a cgroup's CPU quota), `[index] workers` and `--workers`, and the same
faces, in the same order, whatever the number (fake models; the real ones in tests/test_e2e_cores.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from indexer.config import ConfigError, IndexConfig, load_config
from indexer.vision.engines import cores
from support.cli import faces
from support.photos import make_photo


def cgroup_tree(root: Path, own: str, files: dict[str, str]) -> Path:
    """A cgroup folder tree under ``root`` with ``files`` (path → text), and a /proc/self/cgroup naming
    ``own``; returns that file."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    listing = root.parent / "self-cgroup"
    listing.write_text(own)
    return listing


def test_a_cgroup_v2_quota_caps_the_cores_and_the_smallest_up_the_tree_wins(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    listing = cgroup_tree(root, "0::/system.slice/nightly.service\n", {
        "cpu.max": "max 100000\n",
        "system.slice/cpu.max": "300000 100000\n",
        "system.slice/nightly.service/cpu.max": "150000 100000\n",
    })
    assert cores.cgroup_cpu_quota(root, listing) == 1.5
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert cores.usable_cores(root, listing) == 2  # 1.5 cores: two threads may run, each part of the time
    (root / "system.slice/nightly.service/cpu.max").write_text("max 100000\n")
    assert cores.usable_cores(root, listing) == 3
    (root / "system.slice/cpu.max").write_text("max 100000\n")
    assert cores.cgroup_cpu_quota(root, listing) is None and cores.usable_cores(root, listing) == 4


def test_a_cgroup_v1_quota_and_a_container_whose_root_is_its_own_cgroup(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    root = tmp_path / "v1"
    listing = cgroup_tree(root, "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n", {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    })
    assert cores.usable_cores(root, listing) == 2
    (root / "cpu,cpuacct/docker/abc/cpu.cfs_quota_us").write_text("-1\n")
    assert cores.usable_cores(root, listing) == 8
    container = tmp_path / "container"
    listing = cgroup_tree(container, "0::/\n", {"cpu.max": "100000 100000\n"})
    assert cores.usable_cores(container, listing) == 1
    assert cores.usable_cores(tmp_path / "none", tmp_path / "no-such-file") == 8  # nothing readable: affinity


def test_the_affinity_not_the_machine_decides(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert cores.usable_cores(tmp_path / "none", tmp_path / "none") == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert IndexConfig().workers_here() == 3 and IndexConfig(workers=5).workers_here() == 5
    assert IndexConfig().workers_here("tensorflow") == 1 and IndexConfig(workers=2).workers_here("tensorflow") == 2


def test_workers_in_the_config(write_config):
    assert load_config(write_config("")).index.workers is None
    assert load_config(write_config('[index]\nworkers = "auto"\n')).index.workers is None
    assert load_config(write_config("[index]\nworkers = 3\n")).index.workers == 3
    for wrong in ("0", '"all"', "true", "65", "1.5"):
        with pytest.raises(ConfigError, match=r'workers must be "auto" or a whole number from 1 to 64'):
            load_config(write_config(f"[index]\nworkers = {wrong}\n"))


def test_a_bad_number_of_workers_is_bad_usage(run, tmp_path):
    done = run("index", str(tmp_path), "--workers", "0", expect=2)
    assert "--workers" in done.stderr


@pytest.fixture
def library_of_photos(tmp_path) -> Path:
    """Thirty photos of 0–4 fake faces, one unreadable, in two folders."""
    for i in range(30):
        make_photo(tmp_path / "photos" / f"{'ab'[i % 2]}" / f"{i:02d}.jpg", faces=i % 5, seed=i)
    (tmp_path / "photos" / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    return tmp_path / "photos"


def test_any_number_of_workers_finds_the_same_faces_stores_them_in_the_same_order(run, use_fake_models, library_of_photos,
                                                                                   write_config, tmp_path):
    detector, _ = use_fake_models
    threads: set[str] = set()
    real_detect = detector.detect

    def detect(photo):
        threads.add(threading.current_thread().name)
        return real_detect(photo)

    detector.detect = detect
    found = {}
    for workers in (1, 4):
        write_config(f'[storage]\ndata_dir = "{tmp_path / f"data{workers}"}"\n')
        run.data_dir = tmp_path / f"data{workers}"
        summary = run.json("index", str(library_of_photos), "--workers", str(workers))
        assert summary["new"] == 31 and summary["errors"] == 1 and summary["faces_added"] == sum(i % 5 for i in range(30))
        rows = run.query("SELECT photos.path, faces.id, faces.box_x FROM faces JOIN photos ON photos.id = faces.photo_id "
                         "ORDER BY faces.id")
        found[workers] = rows
        assert [row[0] for row in rows] == sorted(row[0] for row in rows)  # stored in the order of the files
    assert found[1] == found[4]
    assert len({name for name in threads if name.startswith("indexer-read")}) > 1  # several read at once
    photo = library_of_photos / "a" / "04.jpg"
    assert len(faces(run, photo)) == 4
