"""Figures for recognition on the sample library, run by hand:

    .venv/bin/python bench/recognition.py

Through the real command, in a throw-away data folder: index a library of the `val` photos and the
group photo, enroll the 5-celebrity `train` folders, train, then ask `who-is` about copies of every
`val` photo and of the group photo kept outside the library (so each is detected, embedded and
labelled afresh). Prints the cross-validated figures `train` reports, the thresholds it chose, the
accuracy on `val` (the largest face of each photo), and how many strangers were named: the six people
of the group photo and the background faces of the `val` photos, none of whom is enrolled.
Goals: 25/25 on `val`, every stranger unknown.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from indexer.sample import cached_sample_library

from commands import indexer_in


def main() -> None:
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        indexer = indexer_in(tmp / "data")

        library = tmp / "library"
        shutil.copytree(sample.celebrities / "val", library / "val")
        shutil.copy2(sample.group_photo, library / "group.jpg")
        seconds, _ = indexer("index", str(library))
        print(f"index (26 photos, start-up included): {seconds:.1f} s")
        seconds, out = indexer("enroll", "--folders", str(sample.celebrities / "train"), "--json")
        enrolled = json.loads(out)
        print(f"enroll train: {len(enrolled['enrolled'])} photos named, {len(enrolled['no_face'])} without a face, "
              f"in {seconds:.1f} s")
        seconds, out = indexer("train", "--json")
        report = json.loads(out)
        print(f"train: {seconds:.1f} s (new process, no TensorFlow)")
        for person in report["people"]:
            print(f"  {person['name']:<15} {person['right']:>2}/{person['faces']:<2} right, {person['wrong']} wrong, "
                  f"{person['unknown']} unknown (cross-validated)")
        print(f"  cross-validated accuracy {report['accuracy']:.1%} ({report['folds']} folds); "
              f"left-out people named: {report['strangers']['named']} of {report['strangers']['tested']} faces")
        t, d = report["thresholds"], report["distances"]
        print(f"  max_distance {t['max_distance']}: {t['max_distance_from']}")
        print(f"  min_probability {t['min_probability']}: {t['min_probability_from']}")
        print(f"  mean distance same person {d['same_person_mean']}, different people {d['different_person_mean']}")

        outside = tmp / "outside"
        copies = {}
        for photo in sample.photos("val"):
            copy = outside / photo.parent.name / photo.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(photo, copy)
            copies[str(copy)] = photo.parent.name
        group = outside / "group.jpg"
        shutil.copy2(sample.group_photo, group)
        seconds, out = indexer("who-is", *copies, str(group), "--json")
        answers = [json.loads(line) for line in out.splitlines()]
        print(f"who-is on {len(answers)} photos outside the library: {seconds:.1f} s (start-up included)")

        right, wrong, unknown, strangers, strangers_named, scores = 0, [], [], 0, [], []
        for answer in answers:
            faces = answer["faces"]
            if answer["photo"] == str(group):
                strangers += len(faces)
                strangers_named += [f["person"] for f in faces if f["person"]]
                continue
            truth = copies[answer["photo"]]
            largest = max(faces, key=lambda f: f["box"][2] * f["box"][3])
            if largest["person"] == truth:
                right += 1
                scores.append(largest["score"])
            elif largest["person"] is None:
                unknown.append(answer["photo"])
            else:
                wrong.append((answer["photo"], largest["person"]))
            for face in faces:
                if face is not largest:
                    strangers += 1
                    if face["person"]:
                        strangers_named.append(face["person"])
        print(f"val: {right}/{len(copies)} named right, {len(wrong)} wrong, {len(unknown)} unknown; "
              f"scores {min(scores):.2f}–{max(scores):.2f}")
        for photo, person in wrong:
            print(f"  wrong: {photo} named {person}")
        for photo in unknown:
            print(f"  unknown: {photo}")
        print(f"strangers (group photo + background faces): {len(strangers_named)} of {strangers} named"
              + (f" ({', '.join(strangers_named)})" if strangers_named else ""))


if __name__ == "__main__":
    main()
