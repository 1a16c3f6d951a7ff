"""Datasets for the CNN lab: the IDX reader, where MNIST is looked for, its download, digits.

No UI and no torch here (numpy only), so `dltui data` is quick.

    read_idx(path)            an IDX file (gzip or raw) as a numpy array, validated
    write_idx(path, array)    the reverse (tests and tools make small IDX files with it)
    search_dirs(name, dir)    where the four files are looked for, in order
    load(name, dir)           (train_x, train_y, test_x, test_y) as uint8 / int64 arrays
    download(name, dir)       the four files from the published mirrors, MD5-checked, atomic
    load_digits()             the 8×8 digits shipped with dltui, a fixed split (no network at all)
    cmd_data(name, dir)       the `dltui data mnist|fashion-mnist` command

Search order for the files: `--set data_dir=DIR`, `$DLTUI_DATA`, the user cache directory
(`$XDG_CACHE_HOME/dltui` or `~/.cache/dltui`), then `./MNIST_data`, the root the course's lab
code gives torchvision. In each root both the files themselves and torchvision's layout
(`MNIST/raw/`, `FashionMNIST/raw/`) are accepted, so a student who ran the lab needs no second
download. Every problem is a `DataError` (a UsageError: one line, exit 2) naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import signal
import struct
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from dltui.scenario.params import UsageError


class DataError(UsageError):
    """Missing, damaged or undownloadable data: one line saying which file and what to do."""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    folder: str
    """torchvision's folder name: ROOT/<folder>/raw/."""
    mirrors: tuple[str, ...]
    md5: dict[str, str]
    """File name -> published MD5 (torchvision's `resources`)."""
    classes: tuple[str, ...]
    raw_md5: dict[str, str] | None = None
    """MD5s of the uncompressed files, as torchvision's `raw/` folder and other copies hold them."""


FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        "mnist",
        "MNIST",
        "MNIST",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        tuple("0123456789"),
        {
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
    ),
    "fashion-mnist": Dataset(
        "fashion-mnist",
        "Fashion-MNIST",
        "FashionMNIST",
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        (
            "T-shirt",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Boot",
        ),
        {
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
    ),
}

# IDX type codes (the third byte of the magic number) -> numpy dtype (big-endian on disk).
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# -- the IDX format ------------------------------------------------------------------------
MAX_IDX_BYTES = 1 << 31
"""No IDX file dltui reads is near 2 GiB (MNIST's largest is 47 MB): a header asking for more is
damage or a trap (a small gzip that inflates to gigabytes), refused before it is read."""


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (`.gz` or raw) as a numpy array; DataError if it is not a whole IDX file.

    The header is read first and then at most the bytes it announces (plus one, to notice a
    longer file), so a damaged or hostile file cannot make dltui read more than it claims."""
    path = Path(path)
    redo = "delete it and run 'dltui data'"
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES:
                raise DataError(
                    f"{path} is not an IDX file (wrong magic number "
                    f"{magic.hex() or 'none'}); {redo}"
                )
            dims = f.read(4 * magic[3])
            if len(dims) < 4 * magic[3]:
                raise DataError(f"{path} is truncated (header cut short); {redo}")
            shape = struct.unpack(f">{magic[3]}I", dims)
            dtype = np.dtype(IDX_TYPES[magic[2]])
            expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
            if expected > MAX_IDX_BYTES:
                raise DataError(
                    f"{path} announces {expected:,} bytes of data ({shape}), far "
                    f"more than any dataset here; {redo}"
                )
            body = f.read(expected + 1)
    except PermissionError:
        raise DataError(f"no permission to read {path}; check its permissions") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {path}: {exc} ({redo})") from None
    if len(body) != expected:
        what = "truncated" if len(body) < expected else "longer than its header says"
        raise DataError(f"{path} is {what} ({len(body)} data bytes, expected {expected}); {redo}")
    return np.frombuffer(body, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write `array` as an IDX file (gzip-compressed when the name ends in .gz)."""
    array = np.asarray(array)
    codes = {
        np.dtype(v).newbyteorder("=") if np.dtype(v).itemsize > 1 else np.dtype(v): k
        for k, v in IDX_TYPES.items()
    }
    if array.dtype not in codes:
        raise ValueError(f"IDX cannot hold {array.dtype}")
    code = codes[array.dtype]
    body = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body += array.astype(IDX_TYPES[code]).tobytes()
    path = Path(path)
    with gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb") as f:
        f.write(body)


def md5(path: str | Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- where the files are -------------------------------------------------------------------
def dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def cache_root() -> Path:
    """The user cache directory: $XDG_CACHE_HOME/dltui, or ~/.cache/dltui."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dltui"


def search_dirs(name: str, data_dir: str | None = None) -> list[Path]:
    """Folders that may hold the four files, in the order they are tried."""
    folder = dataset(name).folder
    dirs: list[Path] = []
    for root in (data_dir, os.environ.get("DLTUI_DATA")):
        if root:
            dirs += [Path(root).expanduser(), Path(root).expanduser() / folder / "raw"]
    dirs.append(cache_root() / folder / "raw")
    dirs.append(Path("MNIST_data") / folder / "raw")
    return dirs


def _file(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        try:
            if candidate.is_file():
                return candidate
        except OSError as exc:  # a folder we may not enter, a name too long
            raise DataError(f"cannot look into {str(directory)[:120]}: {exc.strerror}") from None
    return None


def find(name: str, data_dir: str | None = None) -> list[Path] | None:
    """The four files (gz preferred, raw accepted) from the first folder holding all four."""
    for directory in search_dirs(name, data_dir):
        files = [_file(directory, stem) for stem in FILES]
        if all(files):
            return files  # type: ignore[return-value]
    return None


def not_found_message(name: str, data_dir: str | None = None) -> str:
    looked = ", ".join(str(d) for d in search_dirs(name, data_dir))
    return (
        f"{dataset(name).title} not found (looked in {looked}); download it with "
        f"'dltui data {name}', point to your copy with --set data_dir=DIR, or train "
        "offline on the 8×8 digits that come with dltui: dltui run mnist --set dataset=digits"
    )


def load(name: str, data_dir: str | None = None):
    """(train_x, train_y, test_x, test_y): uint8 (n, 28, 28) images and int64 labels."""
    files = find(name, data_dir)
    if files is None:
        raise DataError(not_found_message(name, data_dir))
    train_x, train_y, test_x, test_y = (read_idx(f) for f in files)
    redo = f"delete the files and run 'dltui data {name}'"
    classes = len(dataset(name).classes)
    for images, labels, img_file, lbl_file in (
        (train_x, train_y, files[0], files[1]),
        (test_x, test_y, files[2], files[3]),
    ):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise DataError(
                f"{img_file} holds {images.dtype} images of shape {images.shape}, "
                f"not 28×28 bytes; {redo}"
            )
        if labels.ndim != 1 or len(images) != len(labels):
            raise DataError(
                f"{img_file}: {len(images)} images do not match the {labels.shape} "
                f"labels of {lbl_file}; {redo}"
            )
        if len(labels) == 0:
            raise DataError(f"{lbl_file} holds no examples; {redo}")
        if int(labels.min()) < 0 or int(labels.max()) >= classes:
            raise DataError(
                f"{lbl_file} has labels outside 0–{classes - 1} (from "
                f"{int(labels.min())} to {int(labels.max())}); {redo}"
            )
    return train_x, train_y.astype(np.int64), test_x, test_y.astype(np.int64)


# -- download ------------------------------------------------------------------------------
Opener = Callable[..., Any]


def _progress(label: str, done: int, total: int | None, err: IO[str]) -> None:
    if total:
        filled = int(30 * done / total)
        bar = "█" * filled + "·" * (30 - filled)
        err.write(f"\r  {label:<28} {bar} {100 * done / total:5.1f}% of {total / 1e6:.1f} MB")
    else:
        err.write(f"\r  {label:<28} {done / 1e6:.1f} MB")
    err.flush()


class _Mismatch(Exception):
    """The downloaded bytes are not the published file."""


def _fetch(url: str, target: Path, opener: Opener, err: IO[str], checksum: str) -> None:
    """Stream `url` into a temp file next to `target`, hashing as it comes; only bytes with
    the published MD5 are renamed into place, so an interrupted or wrong download never
    leaves a file under the real name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with os.fdopen(fd, "wb") as out, opener(url, timeout=30) as response:
            total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            total = int(total) if total else None
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                _progress(target.name, done, total, err)
        err.write("\n")
        if digest.hexdigest() != checksum:
            raise _Mismatch
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def download(
    name: str, data_dir: str | None = None, opener: Opener | None = None, err: IO[str] | None = None
) -> Path:
    """Fetch the four files into ROOT/<folder>/raw (ROOT: data_dir, $DLTUI_DATA or the cache),
    trying each mirror in turn and checking the published MD5s. Files already there and
    intact are kept. Returns the folder."""
    info = dataset(name)
    opener = opener or urllib.request.urlopen
    err = err or sys.stderr
    root = Path(data_dir or os.environ.get("DLTUI_DATA") or cache_root()).expanduser()
    folder = root / info.folder / "raw"
    created = [d for d in (folder, *folder.parents) if not d.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {folder}: {exc.strerror}") from None
    try:
        for file_name, checksum in info.md5.items():
            _download_one(info, folder / file_name, checksum, opener, err)
    except BaseException:
        for directory in created:  # leave no empty folders behind
            try:
                directory.rmdir()
            except OSError:
                break  # not empty, or not ours to remove
        raise
    return folder


def _download_one(info: Dataset, target: Path, checksum: str, opener: Opener, err: IO[str]) -> None:
    if target.is_file() and md5(target) == checksum:
        return
    failures = []
    for mirror in info.mirrors:
        try:
            _fetch(mirror + target.name, target, opener, err, checksum)
            return
        except _Mismatch:
            failures.append(f"{mirror}: checksum mismatch (expected MD5 {checksum})")
        except (OSError, http.client.HTTPException) as exc:  # URLError, cut transfers, bad replies
            failures.append(
                f"{mirror}: {getattr(exc, 'reason', None) or exc or type(exc).__name__}"
            )
    raise DataError(
        f"could not download {target.name} ({'; '.join(failures)}); "
        f"copy the files into {target.parent} by hand, or use --set dataset=digits"
    )


def verify(name: str, files: list[Path]) -> None:
    """Check every file among `files` against its published MD5 (gzip or uncompressed)."""
    info = dataset(name)
    for path in files:
        checksum = (info.md5 if path.suffix == ".gz" else info.raw_md5 or {}).get(path.name)
        if checksum is None:
            read_idx(path)  # no published checksum: at least a whole IDX file
        elif md5(path) != checksum:
            raise DataError(
                f"{path} has the wrong checksum (expected MD5 {checksum}); "
                f"delete it and run 'dltui data {name}'"
            )


def cmd_data(name: str, data_dir: str | None = None) -> int:
    """`dltui data NAME [--dir DIR]`: make sure the dataset is on disk; say where it is."""
    info = dataset(name)
    files = find(name, data_dir)
    if files is not None:
        verify(name, files)
        print(f"{info.title} is already in {files[0].parent} (checksums verified)")
        return 0
    previous = signal.signal(signal.SIGTERM, _interrupt)  # clean up like ctrl+c does
    try:
        folder = download(name, data_dir)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"{info.title} downloaded to {folder}")
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


# -- the 8×8 digits: the offline dataset, shipped with dltui ----------------------------------
DIGITS_TRAIN = 1500
"""1500 of the 1797 digits train, the other 297 test (a fixed shuffle, numpy seed 0)."""
DIGITS_FILE = Path(__file__).with_name("digits.csv.gz")
"""UCI's "Optical Recognition of Handwritten Digits" test set (E. Alpaydin, C. Kaynak, 1998;
CC BY 4.0), the file scikit-learn ships as load_digits(): 1797 rows of 64 pixels (0-16) and
the label. 57 KB, so the offline lesson needs no download and no extra package."""


def load_digits():
    """(train_x, train_y, test_x, test_y): float (n, 8, 8) in [0, 1] and int64 labels."""
    try:
        with gzip.open(DIGITS_FILE, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",")
    except (OSError, ValueError) as exc:
        raise DataError(f"the digits file that comes with dltui is unreadable: {exc}") from None
    images = (table[:, :-1].reshape(-1, 8, 8) / 16.0).astype(np.float32)
    labels = table[:, -1].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:DIGITS_TRAIN], order[DIGITS_TRAIN:]
    return images[train], labels[train], images[test], labels[test]
