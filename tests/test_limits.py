"""Files built to hurt, and what one file may cost: each limit a setting with a sane default, each hit said
once (in the run's summary and in `indexer errors`, or in the command's report), and no file that can
hang a command, starve a night's run or make the index take one picture for another. Each was reproduced
first (fake models, a real SQLite, real FIFOs and videos)."""

from __future__ import annotations

import json

from support.photos import make_photo
from support.xmp import region_item, regions_packet


def test_a_sidecar_has_at_most_max_drawn_faces_drawn_and_the_rest_is_said_once(run, tmp_path, use_people_models):
    root = tmp_path / "photos"
    photo = make_photo(root / "crowd.jpg", faces=0, size=(1600, 800), seed=1)
    run("index", str(root))
    spots = [(x, y) for y in range(0, 780, 25) for x in range(0, 1580, 25)][:1000]  # 1000 regions of 20 px
    regions = [region_item(f"P{n}", ((x + 10) / 1600, (y + 10) / 800, 20 / 1600, 20 / 800)) for n, (x, y) in enumerate(spots)]
    (root / "crowd.jpg.xmp").write_bytes(regions_packet(*regions, dimensions=(1600, 800)))
    _, embedder = use_people_models

    dry = run.json("import-xmp", "--dry-run")
    assert len(dry["drawn"]) == 200 and run.query("SELECT count(*) FROM faces") == [(0,)]
    assert dry["limited"] == [{"file": f"{photo}.xmp", "reason": "asks for 1000 faces to be drawn, more than [xmp] "
                               "max_drawn_faces (200) allows from one file: the other 800 left out"}]
    result = run("import-xmp", "--json")
    report = json.loads(result.stdout)
    assert len(report["drawn"]) == 200 and len(report["limited"]) == 1
    assert result.stderr.count("max_drawn_faces") == 1
    assert run.query("SELECT count(*), count(DISTINCT person_id) FROM faces") == [(200, 200)]
    assert embedder.largest <= 32  # embedded a batch at a time ([embedding] batch_size)
    assert run.json("check")["problems"] == []


def test_max_drawn_faces_is_a_setting(run, tmp_path, use_people_models, write_config):
    from support.cli import Cli

    root = tmp_path / "photos"
    photo = make_photo(root / "crowd.jpg", faces=0, size=(800, 400), seed=1)
    cli = Cli(write_config("[xmp]\nmax_drawn_faces = 3\n"), data_dir=tmp_path / "data")
    cli("index", str(root))
    regions = [region_item(f"P{n}", ((40 + 50 * n) / 800, 0.5, 30 / 800, 30 / 400)) for n in range(5)]
    (root / "crowd.jpg.xmp").write_bytes(regions_packet(*regions, dimensions=(800, 400)))
    assert [d["name"] for d in cli.json("import-xmp")["drawn"]] == ["P0", "P1", "P2"]
    refused = Cli(write_config("[xmp]\nmax_drawn_faces = 0\n", name="zero.toml"))("status", expect=1).stderr
    assert refused.endswith("zero.toml: max_drawn_faces must be a whole number from 1 to 100000, not 0\n")
