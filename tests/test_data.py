"""dltui.data: IDX files read back what was written, damage is a clear error naming the file,
the search order finds the lab's torchvision folder, and downloads (against a fake opener, no
network) fall back across mirrors, check MD5s, write atomically and skip what is there."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from dltui.scenario import data
from dltui.scenario.params import UsageError


def make_set(folder: Path, n_train: int = 20, n_test: int = 10, gz: bool = True) -> None:
    """Four small IDX files in `folder` (images a fixed pattern, labels 0..9)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        data.write_idx(
            folder / f"{prefix}-images-idx3-ubyte{ext}",
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        )
        data.write_idx(
            folder / f"{prefix}-labels-idx1-ubyte{ext}", (np.arange(n) % 10).astype(np.uint8)
        )


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $DLTUI_DATA, and a cwd with no MNIST_data folder."""
    monkeypatch.delenv("DLTUI_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


# -- the IDX format ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_idx_round_trip(tmp_path, name, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    data.write_idx(tmp_path / name, array)
    back = data.read_idx(tmp_path / name)
    assert back.dtype == array.dtype and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_mnist_header_is_the_published_one(tmp_path):
    data.write_idx(tmp_path / "l", np.zeros(3, np.uint8))
    data.write_idx(tmp_path / "i", np.zeros((3, 28, 28), np.uint8))
    assert (tmp_path / "l").read_bytes()[:8] == bytes.fromhex("00000801 00000003")
    header = bytes.fromhex("00000803 00000003 0000001c 0000001c")
    assert (tmp_path / "i").read_bytes()[:16] == header


def test_wrong_magic_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte is not an IDX file"):
        data.read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_names_the_file(tmp_path, gz):
    path = tmp_path / "t10k-images-idx3-ubyte"
    data.write_idx(path, np.zeros((5, 28, 28), np.uint8))
    body = path.read_bytes()[:-100]
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(body)[:-30])  # a cut-off download
    else:
        path.write_bytes(body)
    with pytest.raises(data.DataError, match=str(path.name)) as info:
        data.read_idx(path)
    assert isinstance(info.value, UsageError)  # the CLI prints one line, exit 2


# -- where the files are looked for --------------------------------------------------------
def test_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTUI_DATA", str(tmp_path / "env"))
    dirs = data.search_dirs("mnist", str(tmp_path / "mine"))
    assert dirs == [
        tmp_path / "mine",
        tmp_path / "mine" / "MNIST" / "raw",
        tmp_path / "env",
        tmp_path / "env" / "MNIST" / "raw",
        tmp_path / "cache" / "dltui" / "MNIST" / "raw",
        Path("MNIST_data") / "MNIST" / "raw",
    ]
    assert data.search_dirs("fashion-mnist")[-1] == Path("MNIST_data/FashionMNIST/raw")


def test_the_labs_torchvision_folder_is_found_raw_or_gz(tmp_path):
    assert data.find("mnist") is None
    make_set(tmp_path / "MNIST_data" / "MNIST" / "raw", gz=False)
    train_x, _, _, test_y = data.load("mnist")
    assert train_x.shape == (20, 28, 28) and train_x.dtype == np.uint8
    assert list(test_y) == list(range(10)) and test_y.dtype == np.int64
    assert data.find("fashion-mnist") is None  # MNIST is not Fashion-MNIST


def test_data_dir_wins_over_env_and_cache(tmp_path, monkeypatch):
    make_set(tmp_path / "cache" / "dltui" / "MNIST" / "raw", n_train=30)
    make_set(tmp_path / "env", n_train=40)
    monkeypatch.setenv("DLTUI_DATA", str(tmp_path / "env"))
    make_set(tmp_path / "mine", n_train=50)
    assert len(data.load("mnist", str(tmp_path / "mine"))[0]) == 50
    assert len(data.load("mnist")[0]) == 40
    monkeypatch.delenv("DLTUI_DATA")
    assert len(data.load("mnist")[0]) == 30


def test_nothing_on_disk_says_the_three_ways_out():
    with pytest.raises(data.DataError) as info:
        data.load("mnist")
    message = str(info.value)
    assert "\n" not in message
    for way in ("dltui data mnist", "--set data_dir=", "--set dataset=digits"):
        assert way in message


# -- download (a fake opener: no network) ---------------------------------------------------
class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}


def fake_files() -> dict[str, bytes]:
    return {name: gzip.compress(name.encode() * 50) for name in data.DATASETS["mnist"].md5}


@pytest.fixture
def published(monkeypatch):
    """Pretend the fake files are the published ones (their MD5s in the checksum table)."""
    files = fake_files()
    md5s = {name: hashlib.md5(body).hexdigest() for name, body in files.items()}
    mirrors = ("https://first/", "https://second/")
    monkeypatch.setitem(
        data.DATASETS,
        "mnist",
        data.Dataset("mnist", "MNIST", "MNIST", mirrors, md5s, tuple("0123456789")),
    )
    return files


def test_download_falls_back_to_the_next_mirror_and_writes_atomically(tmp_path, published):
    asked = []

    def opener(url, timeout):
        asked.append(url)
        if url.startswith("https://first/"):
            raise urllib.error.URLError("no route to host")
        return FakeResponse(published[url.rsplit("/", 1)[1]])

    err = io.StringIO()
    folder = data.download("mnist", str(tmp_path / "d"), opener=opener, err=err)
    assert folder == tmp_path / "d" / "MNIST" / "raw"
    assert sorted(p.name for p in folder.iterdir()) == sorted(published)  # no .part left
    assert len(asked) == 8 and asked[1] == "https://second/train-images-idx3-ubyte.gz"
    assert "100.0%" in err.getvalue()  # the progress bar reached the end

    asked.clear()
    data.download("mnist", str(tmp_path / "d"), opener=opener, err=err)
    assert asked == []  # already there: no-op


def test_download_rejects_a_bad_checksum_and_leaves_nothing(tmp_path, published):
    def opener(url, timeout):
        return FakeResponse(b"<html>captive portal</html>")

    with pytest.raises(data.DataError, match="checksum mismatch") as info:
        data.download("mnist", str(tmp_path / "d"), opener=opener, err=io.StringIO())
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert not (tmp_path / "d").exists()  # no file, no .part, no empty folders


def test_interrupted_download_leaves_no_partial_file(tmp_path, published):
    class Broken(FakeResponse):
        def read(self, n=-1):
            raise ConnectionResetError("connection reset")

    with pytest.raises(data.DataError, match="connection reset"):
        data.download(
            "mnist", str(tmp_path / "d"), opener=lambda u, timeout: Broken(b""), err=io.StringIO()
        )
    assert not (tmp_path / "d").exists()  # no file, no .part, no empty folders


def test_cmd_data_downloads_into_the_cache_then_is_a_no_op(published, monkeypatch, capsys):
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return FakeResponse(published[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(data.urllib.request, "urlopen", opener)
    assert data.cmd_data("mnist", None) == 0
    assert "downloaded to" in capsys.readouterr().out and len(calls) == 4
    assert data.find("mnist")[0].parent == data.cache_root() / "MNIST" / "raw"
    assert data.cmd_data("mnist", None) == 0
    assert "already in" in capsys.readouterr().out and len(calls) == 4


@pytest.mark.parametrize("gz", [True, False])
def test_cmd_data_reports_a_damaged_file(tmp_path, gz):
    """Whole IDX files that are not the published bytes, gzipped or as torchvision's raw/
    folder holds them uncompressed: the checksum names the file."""
    make_set(tmp_path / "MNIST_data" / "MNIST" / "raw", gz=gz)
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.* wrong checksum"):
        data.cmd_data("mnist", None)


def test_files_with_no_published_checksum_still_get_a_structure_check(tmp_path):
    folder = tmp_path / "f"
    make_set(folder, gz=False)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00")
    files = data.find("mnist", str(folder))
    unchecked = data.Dataset("x", "X", "X", (), {}, tuple("0123456789"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(data.DATASETS, "mnist", unchecked)
        with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte is truncated"):
            data.verify("mnist", files)


def test_the_shipped_digits_equal_scikit_learns():
    sklearn = pytest.importorskip("sklearn.datasets")
    train_x, train_y, _, test_y = data.load_digits()
    theirs = sklearn.load_digits()
    order = np.random.default_rng(0).permutation(1797)
    assert np.array_equal(train_x, (theirs.images / 16.0).astype(np.float32)[order[:1500]])
    assert np.array_equal(train_y, theirs.target[order[:1500]])
    assert np.array_equal(test_y, theirs.target[order[1500:]])


def test_the_digits_need_no_extra_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    assert data.load_digits()[0].shape == (1500, 8, 8)


def test_digits_split_is_fixed():
    train_x, _, test_x, test_y = data.load_digits()
    assert train_x.shape == (1500, 8, 8) and test_x.shape == (297, 8, 8)
    assert 0 <= train_x.min() and train_x.max() <= 1
    assert list(test_y[:5]) == list(data.load_digits()[3][:5])
