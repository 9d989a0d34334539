"""Raw-file acquisition: local cache → mirror → download, every file checked by sha256.

Raw inputs of method §4.2/§4.3 (raw-file notes in §4.2). Layout: one path per file, the
same under the local cache (``<data dir>/raw/``) and under the mirror (``../shared/data``
in tests and CI): ``adult/adult.data``, ``california_housing/cal_housing.data``, …

Decisions:
* A file found in the cache or the mirror is used in place (nothing is copied); a
  downloaded file is written to the cache atomically (temp file in the same directory,
  then ``os.replace``) and only after its digest matched.
* A corrupted file in the cache or the mirror is an error (:class:`ChecksumError`), not a
  reason to fall through to the next source: a silently replaced input would hide it.
  A download whose digest does not match is discarded and the next URL is tried; the
  final error then reports every mismatch.
* Only the raw files the reference actually reads are registered: Adult uses
  ``adult.data`` only (method §4.2, "training file only").
* California Housing is downloaded as sklearn's ``cal_housing.tgz`` and the member
  ``CaliforniaHousing/cal_housing.data`` extracted; both digests are checked.
* Give Me Some Credit's raw file has no download (Kaggle login): the error says where to
  put it. The reference's preprocessed rows of it (below) do.
* The reference's preprocessed rows of CH, Credit and GMSC (CE.jl's ``data-tabular``
  artifact, method §4.2) are pinned to the repository commit that added them
  (``REFERENCE_COMMIT``): raw.githubusercontent.com serves a file at a commit unchanged.
* ``$CFTRAIN_DATA_MIRROR`` may list several mirror folders (``os.pathsep``-separated),
  searched in order: a read-only shared mirror plus a folder of one's own.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cftrain.atomic import atomic_path

DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 20


class RawDataError(RuntimeError):
    """A raw input file cannot be used."""


class ChecksumError(RawDataError):
    """A raw file's sha256 differs from the pinned one; the file is not used."""


class RawFileUnavailableError(RawDataError):
    """No source could provide a raw file."""


@dataclass(frozen=True)
class Source:
    """One download URL; ``member`` names the file inside a .zip / .tar.gz archive."""

    url: str
    member: str | None = None
    archive_sha256: str | None = None


@dataclass(frozen=True)
class RawFile:
    """A pinned raw input: path in the cache/mirror layout, digest, where to get it."""

    relpath: str
    sha256: str
    sources: tuple[Source, ...]
    manual: str = ""


_MNIST_URLS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


def _mnist(name: str, sha256: str) -> RawFile:
    return RawFile(f"mnist/{name}", sha256, tuple(Source(base + name) for base in _MNIST_URLS))


RAW_FILES: dict[str, RawFile] = {
    f.relpath: f
    for f in (
        RawFile(
            "adult/adult.data",
            "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
            (
                Source(
                    "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data"
                ),
                Source(
                    "https://archive.ics.uci.edu/static/public/2/adult.zip", member="adult.data"
                ),
            ),
        ),
        RawFile(
            "california_housing/cal_housing.data",
            "a2b44dcc7e1c9091b43c4f458b25cbd1f7e8068d08edd26bc4703108d3fa6214",
            tuple(
                Source(
                    url,
                    member="CaliforniaHousing/cal_housing.data",
                    archive_sha256=(
                        "aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681"
                    ),
                )
                for url in (
                    "https://ndownloader.figshare.com/files/5976036",
                    "https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.tgz",
                )
            ),
        ),
        RawFile(
            "credit_default/UCI_Credit_Card.csv",
            "a0f0ab49d6326671d6cd83be5c88dcf18007025fe9a53ecd699119c871176ca1",
            (
                Source(
                    "https://huggingface.co/datasets/scikit-learn/credit-card-clients/"
                    "resolve/main/UCI_Credit_Card.csv"
                ),
            ),
            manual="also on Kaggle: https://www.kaggle.com/datasets/uciml/"
            "default-of-credit-card-clients-dataset (login required)",
        ),
        RawFile(
            "give_me_some_credit/cs-training.csv",
            "1bd46da486a5708c58c7b01a034fae2a13b327f6f7b62ea7ba4fe3b5824b24ac",
            (),
            manual="Kaggle requires a login: sign in, accept the competition rules at "
            "https://www.kaggle.com/c/GiveMeSomeCredit/data and download cs-training.csv",
        ),
        _mnist(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        _mnist(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        _mnist(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        _mnist(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    )
}


#: CE.jl commit holding ``dev/artifacts/upload/data/tabular/`` (the reference's rows)
REFERENCE_COMMIT = "ce5c7739e0c0378f014c38b5e4272c64dd06ace2"


def _reference(name: str, sha256: str) -> RawFile:
    url = (
        "https://raw.githubusercontent.com/JuliaTrustworthyAI/CounterfactualExplanations.jl/"
        f"{REFERENCE_COMMIT}/dev/artifacts/upload/data/tabular/{name}"
    )
    return RawFile(f"reference/{name}", sha256, (Source(url),))


RAW_FILES.update(
    (f.relpath, f)
    for f in (
        _reference(
            "cal_housing.csv", "7777da56fae024f8a0cd2eb014c8f03b75a0eae591376828e38ff21156be4aef"
        ),
        _reference(
            "credit_default.csv", "9105fb70f002f4963426b16a229e35f5cd118d2613b9e90e72139e065c8c1380"
        ),
        _reference("gmsc.csv", "e00a2463dcceb90a0ac6ea37044750f417ebe62f51380a9bc75d6e08fd43e0f4"),
    )
)


def data_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Data directory holding ``raw/`` and ``processed/``: argument, $CFTRAIN_DATA_DIR, ``data``."""
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("CFTRAIN_DATA_DIR") or "data")


def mirror_dirs(mirror: str | os.PathLike | None = None) -> tuple[Path, ...]:
    """Read-only mirrors of the raw layout, searched in order: the argument, else
    $CFTRAIN_DATA_MIRROR (either may list folders separated by ``os.pathsep``), else none."""
    text = os.fspath(mirror) if mirror is not None else os.environ.get("CFTRAIN_DATA_MIRROR", "")
    return tuple(Path(part) for part in text.split(os.pathsep) if part)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str, what: str, hint: str = "") -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(
            f"checksum mismatch for {what} at {path}: expected sha256 {expected}, "
            f"got {actual}; the file was not used{hint}"
        )


def fetch(spec: RawFile, *, raw_dir: Path, mirrors: tuple[Path, ...] = ()) -> Path:
    """Path of a verified copy of ``spec``: cache, then each mirror, then each download URL."""
    local = raw_dir / spec.relpath
    if local.is_file():
        _verify(local, spec.sha256, spec.relpath, "; delete it to fetch it again")
        return local
    tried = [f"local cache {local.resolve()}: not found"]
    if not mirrors:
        tried.append("mirror: none configured (set CFTRAIN_DATA_MIRROR or pass mirror=)")
    for mirror in mirrors:
        candidate = mirror / spec.relpath
        if candidate.is_file():
            _verify(candidate, spec.sha256, spec.relpath, "; fix or remove the mirror copy")
            return candidate
        tried.append(f"mirror {candidate.resolve()}: not found")
    if not spec.sources:
        tried.append("download: no public URL without a login")
    for src in spec.sources:
        try:
            _download(src, spec, local)
            return local
        except (OSError, RawDataError, tarfile.TarError, zipfile.BadZipFile, KeyError) as err:
            tried.append(f"download {src.url}: {err}")
    lines = "\n".join(f"  - {t}" for t in tried)
    manual = f" ({spec.manual})" if spec.manual else ""
    raise RawFileUnavailableError(
        f"raw file {spec.relpath!r} (sha256 {spec.sha256}) is unavailable. Tried:\n{lines}\n"
        f"Put the file by hand at {local.resolve()}{manual}, or point CFTRAIN_DATA_MIRROR "
        f"at a directory holding {spec.relpath}."
    )


def _download(src: Source, spec: RawFile, dest: Path) -> None:
    """Download into a temp file beside ``dest``; verify; only then move it into place."""
    request = urllib.request.Request(src.url, headers={"User-Agent": "cftrain"})
    with atomic_path(dest) as tmp:
        with (
            open(tmp, "wb") as out,
            urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response,
        ):
            shutil.copyfileobj(response, out, _CHUNK)
        if src.member is not None:
            if src.archive_sha256 is not None:
                _verify(tmp, src.archive_sha256, f"archive {src.url}")
            tmp.write_bytes(_read_member(tmp, src.member))
        _verify(tmp, spec.sha256, f"{spec.relpath} downloaded from {src.url}")


def _read_member(archive: Path, member: str) -> bytes:
    """Bytes of ``member`` inside a zip or tar(.gz) archive."""
    data = archive.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read(member)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        handle = tf.extractfile(member)
        if handle is None:
            raise KeyError(f"{member!r} in {archive.name} is not a regular file")
        return handle.read()
