"""Raw-file acquisition: cache → mirror → download, checksums, errors. Never uses the network."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from cftrain.data import ChecksumError, RawFileUnavailableError, load
from cftrain.data.acquire import RAW_FILES, RawFile, Source, fetch

ADULT = RAW_FILES["adult/adult.data"]
CREDIT = RAW_FILES["credit_default/UCI_Credit_Card.csv"]
GMSC = RAW_FILES["give_me_some_credit/cs-training.csv"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def network(monkeypatch) -> dict:
    """Simulated network: serves only the URLs put in ``payloads``; records every request."""
    state: dict = {"payloads": {}, "calls": []}

    def fake_urlopen(request, timeout=None):
        url = request.full_url
        state["calls"].append(url)
        if url not in state["payloads"]:
            raise urllib.error.URLError("simulated: network is unreachable")
        return io.BytesIO(state["payloads"][url])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    monkeypatch.delenv("CFTRAIN_DATA_MIRROR", raising=False)
    return state


def test_pinned_digests_match_the_mirror(data_mirror: Path) -> None:
    sums = dict(
        reversed(line.split()) for line in (data_mirror / "SHA256SUMS").read_text().splitlines()
    )
    # the shared mirror holds the public raw files; the reference's preprocessed rows
    # (reference/*, pinned from CE.jl's git blobs) are not among them
    public = {rel: spec for rel, spec in RAW_FILES.items() if not rel.startswith("reference/")}
    for relpath, spec in public.items():
        assert sums[relpath] == spec.sha256, relpath


def test_mirror_file_used_in_place(tmp_path: Path, data_mirror: Path, network) -> None:
    path = fetch(ADULT, raw_dir=tmp_path / "raw", mirrors=(data_mirror,))
    assert path == data_mirror / ADULT.relpath
    assert network["calls"] == [] and files_under(tmp_path) == []


def test_corrupted_cache_file_is_an_error_and_not_used(
    tmp_path: Path, data_mirror: Path, network
) -> None:
    local = tmp_path / "raw" / ADULT.relpath
    local.parent.mkdir(parents=True)
    data = bytearray((data_mirror / ADULT.relpath).read_bytes())
    data[100] ^= 0xFF
    local.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as err:
        fetch(ADULT, raw_dir=tmp_path / "raw", mirrors=(data_mirror,))
    message = str(err.value)
    assert ADULT.relpath in message and ADULT.sha256 in message and sha(bytes(data)) in message
    # load() refuses too, although the mirror holds a good copy; nothing gets processed.
    with pytest.raises(ChecksumError):
        load("adult", cache_dir=tmp_path, mirror=data_mirror)
    assert not (tmp_path / "processed").exists()


def test_corrupted_mirror_file_is_an_error(tmp_path: Path, data_mirror: Path, network) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "credit_default").mkdir(parents=True)
    good = (data_mirror / CREDIT.relpath).read_bytes()
    (mirror / CREDIT.relpath).write_bytes(good[:-10])
    with pytest.raises(ChecksumError, match=CREDIT.sha256):
        fetch(CREDIT, raw_dir=tmp_path / "raw", mirrors=(mirror,))
    assert network["calls"] == []


def test_missing_file_without_mirror_or_network(tmp_path: Path, network) -> None:
    raw = tmp_path / "raw"
    with pytest.raises(RawFileUnavailableError) as err:
        fetch(ADULT, raw_dir=raw)
    message = str(err.value)
    destination = str((raw / ADULT.relpath).resolve())
    assert ADULT.relpath in message
    assert f"local cache {destination}: not found" in message
    assert "mirror: none configured" in message and "CFTRAIN_DATA_MIRROR" in message
    assert network["calls"] == [s.url for s in ADULT.sources]
    for src in ADULT.sources:
        assert f"download {src.url}: " in message
    assert f"Put the file by hand at {destination}" in message
    assert files_under(raw) == []  # no partial downloads left


def test_missing_file_in_configured_mirror_is_reported(tmp_path: Path, network) -> None:
    with pytest.raises(RawFileUnavailableError) as err:
        load(
            "credit",
            cache_dir=tmp_path / "data",
            mirror=tmp_path / "empty-mirror",
            tabular_rows="raw",
        )
    assert f"mirror {(tmp_path / 'empty-mirror' / CREDIT.relpath).resolve()}" in str(err.value)


def test_gmsc_explains_the_login_wall(tmp_path: Path, network) -> None:
    with pytest.raises(RawFileUnavailableError) as err:
        load("gmsc", cache_dir=tmp_path, tabular_rows="raw")
    message = str(err.value)
    assert "kaggle.com/c/GiveMeSomeCredit" in message and "login" in message
    assert str((tmp_path / "raw" / GMSC.relpath).resolve()) in message
    assert network["calls"] == []


def test_download_is_verified_and_written_atomically(
    tmp_path: Path, data_mirror: Path, network
) -> None:
    network["payloads"][CREDIT.sources[0].url] = (data_mirror / CREDIT.relpath).read_bytes()
    raw = tmp_path / "raw"
    path = fetch(CREDIT, raw_dir=raw)
    assert path == raw / CREDIT.relpath and sha(path.read_bytes()) == CREDIT.sha256
    assert files_under(raw) == [path]  # the temp file was moved, not left behind
    network["payloads"].clear()
    assert fetch(CREDIT, raw_dir=raw) == path  # now from the cache
    assert len(network["calls"]) == 1


def test_download_with_wrong_digest_is_discarded(tmp_path: Path, network) -> None:
    network["payloads"][CREDIT.sources[0].url] = b"ID,LIMIT_BAL\n1,2\n"
    with pytest.raises(RawFileUnavailableError) as err:
        fetch(CREDIT, raw_dir=tmp_path / "raw")
    message = str(err.value)
    assert "checksum mismatch" in message and CREDIT.sha256 in message
    assert sha(b"ID,LIMIT_BAL\n1,2\n") in message
    assert files_under(tmp_path / "raw") == []


def _tar(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(member, data)
    return buffer.getvalue()


@pytest.mark.parametrize("pack", [_tar, _zip])
def test_archive_member_is_extracted_and_checked(tmp_path: Path, network, pack) -> None:
    content = b"-122.23,37.88,41.0\n"
    archive = pack("Pkg/toy.data", content)
    url = "https://example.invalid/toy.archive"
    spec = RawFile("toy/toy.data", sha(content), (Source(url, "Pkg/toy.data", sha(archive)),))
    network["payloads"][url] = archive
    path = fetch(spec, raw_dir=tmp_path)
    assert path.read_bytes() == content and files_under(tmp_path) == [path]
    network["payloads"][url] = archive + b"\0"  # archive digest no longer matches
    path.unlink()
    with pytest.raises(RawFileUnavailableError, match="archive"):
        fetch(spec, raw_dir=tmp_path)
    assert files_under(tmp_path) == []


def test_cached_processed_dataset_needs_no_raw_files(
    tmp_path: Path, data_mirror: Path, network
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "california_housing").mkdir(parents=True)
    shutil.copy(
        data_mirror / "california_housing" / "cal_housing.data", mirror / "california_housing"
    )
    built = load("cali", cache_dir=tmp_path / "data", mirror=mirror, tabular_rows="raw")
    shutil.rmtree(mirror)
    again = load("cali", cache_dir=tmp_path / "data", tabular_rows="raw")
    assert again.description == built.description
    with pytest.raises(RawFileUnavailableError):  # other parameters: a miss, raw file needed
        load("cali", cache_dir=tmp_path / "data", seed=1, tabular_rows="raw")


def test_negative_n_sigma_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_sigma"):
        load("moons", cache_dir=tmp_path, n_sigma=-1.0)
