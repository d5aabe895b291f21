"""Real-dataset loaders: tiny fixtures in every real on-disk format, and the shared data when present."""

from __future__ import annotations

import bz2
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from emolab.core.errors import ConfigError, DatasetError, DatasetNotFoundError
from emolab.data import taxonomy
from emolab.data.folders import ClassFolderDataset, default_transform
from emolab.data.real import FER2013, FI, JAFFE, KDEF, MNIST, SVHN, USPS, AffectNet, ArtPhoto, CKPlus48

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared real data at {SHARED}")


# --------------------------------------------------------------------------- fixture writers
def _img(path: Path, value: int = 128, size=(48, 48), mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "L":
        a = np.full(size[::-1], value, np.uint8)
        a[0, 0] = 255 - value  # not constant, so a resize is visible
    else:
        a = np.zeros((size[1], size[0], 3), np.uint8)
        a[..., 0], a[..., 1], a[..., 2] = value, 255 - value, 7
    Image.fromarray(a, mode=mode).save(path)
    return path


def _folders(root: Path, counts: dict[str, int], ext: str = ".png", mode: str = "L", size=(48, 48)) -> Path:
    for k, (cls, n) in enumerate(counts.items()):
        for i in range(n):
            _img(root / cls / f"img_{i:03d}{ext}", value=10 * k + i, size=size, mode=mode)
    return root


def _fer_csv(path: Path, rows) -> Path:
    lines = ["emotion,pixels,Usage"]
    for label, value, usage in rows:
        px = np.full(48 * 48, value, np.uint8)
        px[-1] = 255 - value
        lines.append(f"{label},{' '.join(map(str, px))},{usage}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _idx(path: Path, array: np.ndarray) -> Path:
    """An IDX file as LeCun wrote them (magic 0x0000080N, big-endian sizes), gzipped when path ends .gz."""
    array = np.asarray(array, np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def _usps(path: Path, images: np.ndarray, labels) -> Path:
    """The LIBSVM text that torchvision's USPS reads: ``label 1:v1 2:v2 ... 256:v256``, labels 1..10, v in [-1, 1]."""
    lines = []
    for img, lab in zip(images, labels):
        vals = img.reshape(-1).astype(np.float64) / 255 * 2 - 1
        lines.append(f"{lab + 1} " + " ".join(f"{i + 1}:{v:.6f}" for i, v in enumerate(vals)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bz2.compress(("\n".join(lines) + "\n").encode()))
    return path


# --------------------------------------------------------------------------- FER2013
def test_fer2013_csv_splits_and_labels(tmp_path):
    csv = _fer_csv(tmp_path / "fer2013.csv", [
        (0, 10, "Training"), (3, 20, "Training"), (6, 30, "Training"), (1, 40, "Training"),
        (4, 50, "PublicTest"), (5, 60, "PublicTest"), (2, 70, "PrivateTest"),
    ])
    train = FER2013(tmp_path, "train")
    assert len(train) == 4 and train.targets.tolist() == [0, 3, 6, 1]
    assert train.classes == list(taxonomy.EKMAN7) and train.name == "fer2013" and train.split == "train"
    assert train.targets.dtype == np.int64
    x, y = train[1]
    assert x.shape == (1, 48, 48) and x.dtype == torch.float32 and y == 3
    assert abs(float(x[0, 0, 0]) - 20 / 255) < 1e-6 and abs(float(x[0, -1, -1]) - 235 / 255) < 1e-6
    for alias in ("validation", "val", "public", "PublicTest"):
        assert FER2013(tmp_path, alias).targets.tolist() == [4, 5]
    for alias in ("test", "private"):
        assert FER2013(csv, alias).targets.tolist() == [2]   # root may be the CSV itself
    assert FER2013(tmp_path, "train", size=32, channels=3)[0][0].shape == (3, 32, 32)


def test_fer2013_csv_bad_content(tmp_path):
    (tmp_path / "fer2013.csv").write_text("emotion,pixels\n0,1 2 3\n")
    with pytest.raises(DatasetError, match="Usage"):
        FER2013(tmp_path)
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    with pytest.raises(DatasetError, match="2304"):
        FER2013(tmp_path)


def test_fer2013_class_folders(tmp_path):
    counts = {"angry": 2, "disgust": 1, "fear": 1, "happy": 3, "neutral": 2, "sad": 1, "surprise": 1}
    for split in ("train", "validation", "test"):
        _folders(tmp_path / split, counts, ext=".jpg")
    ds = FER2013(tmp_path, "train")
    assert isinstance(ds, ClassFolderDataset) and len(ds) == 11
    assert ds.classes == list(taxonomy.EKMAN7)
    assert ds.class_counts() == {"angry": 2, "disgust": 1, "fear": 1, "happy": 3, "sad": 1, "surprise": 1,
                                 "neutral": 2}
    x, y = ds[0]
    assert x.shape == (1, 48, 48) and 0 <= float(x.min()) and float(x.max()) <= 1 and y == 0
    assert len(FER2013(tmp_path, "validation")) == 11 and len(FER2013(tmp_path, "private")) == 11
    # a split folder that lacks a class still has the seven classes, in the same order
    small = _folders(tmp_path / "small" / "train", {"happy": 1, "disgusted": 1}, ext=".jpg")
    ds = FER2013(small.parent, "train")
    assert ds.classes == list(taxonomy.EKMAN7) and sorted(ds.targets.tolist()) == [1, 3]


def test_fer2013_missing_and_bad_split(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        FER2013(tmp_path / "nowhere")
    msg = str(err.value)
    assert "fer2013.csv" in msg and "ROOT/{train,validation,test}/<emotion>/*.jpg" in msg and "kaggle" in msg
    with pytest.raises(ConfigError, match="train, training"):
        FER2013(tmp_path, "dev")


# --------------------------------------------------------------------------- class folders
def test_ckplus48_folders_map_through_the_taxonomy(tmp_path):
    counts = {"anger": 3, "contempt": 1, "disgust": 2, "fear": 1, "happy": 2, "sadness": 1, "surprise": 2}
    ds = CKPlus48(_folders(tmp_path / "ck", counts))
    assert ds.classes == ["angry", "disgust", "fear", "happy", "sad", "surprise", "contempt"]
    assert ds.class_counts() == {"angry": 3, "disgust": 2, "fear": 1, "happy": 2, "sad": 1, "surprise": 2,
                                 "contempt": 1}
    assert ds.name == "ckplus48" and len(ds) == 12
    assert ds[0][0].shape == (1, 48, 48)
    assert CKPlus48(tmp_path / "ck", size=24)[0][0].shape == (1, 24, 24)
    assert CKPlus48(tmp_path / "ck", size=32, channels=3)[3][0].shape == (3, 32, 32)
    xb, yb = next(iter(torch.utils.data.DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 1, 48, 48) and yb.dtype == torch.int64
    # a custom transform replaces the default one (it gets the PIL image)
    img, _ = CKPlus48(tmp_path / "ck", transform=lambda im: im.size)[0]
    assert img == (48, 48)
    img, y = CKPlus48(tmp_path / "ck", target_transform=lambda t: -t)[-1]
    assert y == -ds.classes.index("surprise")


def test_class_folder_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        CKPlus48(tmp_path / "absent")
    msg = str(err.value)
    assert "ROOT/<emotion>/*.png" in msg and "anger, contempt" in msg and "jeffcohn" in msg
    root = _folders(tmp_path / "ck", {"anger": 1, "happy": 1, "smirk": 1})
    with pytest.raises(DatasetError) as err:
        CKPlus48(root)
    msg = str(err.value)
    assert "'smirk'" in msg and "anger" in msg and "sadness" in msg and "surprise" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetNotFoundError, match="no class folders"):
        CKPlus48(empty)


def test_corrupt_image_is_named(tmp_path):
    root = _folders(tmp_path / "ck", {"anger": 2, "happy": 1})
    bad = root / "happy" / "zz_broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    trunc = root / "anger" / "zz_truncated.jpg"
    _img(trunc, size=(48, 48))
    trunc.write_bytes(trunc.read_bytes()[:60])
    ds = CKPlus48(root)
    assert len(ds) == 5  # listing never decodes
    for path in (bad, trunc):
        i = ds.paths.index(str(path))
        with pytest.raises(DatasetError, match=path.name):
            ds[i]


def test_generic_class_folder_dataset(tmp_path):
    root = _folders(tmp_path / "d", {"Happy": 1, "sad": 2, "ignored": 1, ".hidden": 1})
    ds = ClassFolderDataset(root, {"happy": "happy", "sad": "sad", "ignored": None}, "mine", "from me",
                            categories=taxonomy.EKMAN7)
    assert ds.classes == ["happy", "sad"] and ds.targets.tolist() == [0, 1, 1]
    fixed = ClassFolderDataset(root, {"happy": "happy", "sad": "sad", "ignored": None}, "mine", "from me",
                               classes=taxonomy.EKMAN7)
    assert fixed.classes == list(taxonomy.EKMAN7) and fixed.targets.tolist() == [3, 4, 4]
    with pytest.raises(DatasetError, match="outside"):
        ClassFolderDataset(root, {"happy": "happy", "sad": "sad", "ignored": "contempt"}, "mine", "x",
                           classes=taxonomy.EKMAN7)
    with pytest.raises(ConfigError, match="channels"):
        ClassFolderDataset(root, {"happy": "happy", "sad": "sad", "ignored": None}, "mine", "x", channels=2)
    with pytest.raises(ConfigError, match="size"):
        default_transform(size=0)


def test_affectnet_names_and_codes(tmp_path):
    _folders(tmp_path / "train", {"neutral": 2, "anger": 1, "contempt": 1}, ext=".jpg", mode="RGB", size=(40, 40))
    _folders(tmp_path / "val", {"0": 1, "6": 2, "7": 1, "1": 1}, ext=".jpg", mode="RGB", size=(40, 40))
    tr, va = AffectNet(tmp_path, "train"), AffectNet(tmp_path, "val")
    assert tr.classes == va.classes == list(taxonomy.FACE_CATEGORIES)
    assert tr.class_counts()["neutral"] == 2 and tr.class_counts()["angry"] == 1
    assert tr.class_counts()["contempt"] == 1
    assert va.class_counts() == {**{c: 0 for c in taxonomy.FACE_CATEGORIES},
                                 "neutral": 1, "angry": 2, "contempt": 1, "happy": 1}
    assert tr[0][0].shape == (3, 40, 40)        # native: colour stays colour
    assert va[0][0].shape == (3, 40, 40)
    assert AffectNet(tmp_path, "validation", channels=1, size=16)[0][0].shape == (1, 16, 16)
    with pytest.raises(DatasetNotFoundError, match=r"ROOT/\{train,val\}/<class>"):
        AffectNet(tmp_path / "x", "train")
    with pytest.raises(ConfigError, match="train"):
        AffectNet(tmp_path, "holdout")


def test_fi_mikels_folders(tmp_path):
    counts = {c: 1 for c in taxonomy.MIKELS8 if c != "awe"}
    ds = FI(_folders(tmp_path / "fi", counts, ext=".jpg", mode="RGB", size=(30, 20)))
    assert ds.classes == list(taxonomy.MIKELS8) and len(ds) == 7
    assert ds.class_counts()["awe"] == 0 and ds.class_counts()["sadness"] == 1
    assert ds[0][0].shape == (3, 20, 30)
    assert FI(tmp_path / "fi", size=16)[0][0].shape == (3, 16, 16)
    with pytest.raises(DatasetNotFoundError, match="You, Luo"):
        FI(tmp_path / "nope")


# --------------------------------------------------------------------------- names in files
def test_jaffe_file_names(tmp_path):
    names = ["KA.AN1.39.tiff", "KA.HA2.30.tiff", "YM.NE1.49.tiff", "NA.DI1.214.tiff", "TM.SU3.179.tiff",
             "KL.FE2.175.tiff", "UY.SA1.241.tiff"]
    for i, n in enumerate(names):
        _img(tmp_path / "jaffedbase" / n, value=20 * i, size=(64, 64))
    (tmp_path / "jaffedbase" / "README").write_text("not an image")
    ds = JAFFE(tmp_path)
    assert len(ds) == 7 and ds.classes == list(taxonomy.EKMAN7)
    by_name = dict(zip((Path(p).name for p in ds.paths), ds.targets.tolist()))
    assert by_name["KA.AN1.39.tiff"] == ds.classes.index("angry")
    assert by_name["NA.DI1.214.tiff"] == ds.classes.index("disgust")
    assert by_name["UY.SA1.241.tiff"] == ds.classes.index("sad")
    assert sorted(set(ds.subjects)) == ["KA", "KL", "NA", "TM", "UY", "YM"]
    assert ds[0][0].shape == (1, 64, 64) and JAFFE(tmp_path, size=48)[0][0].shape == (1, 48, 48)
    _img(tmp_path / "jaffedbase" / "photo.tiff")
    with pytest.raises(DatasetError, match="photo.tiff"):
        JAFFE(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="zenodo"):
        JAFFE(tmp_path / "none")


def test_kdef_file_names_and_angles(tmp_path):
    names = ["AF01/AF01ANS.JPG", "AF01/AF01HAHL.JPG", "AF01/AF01NEFR.JPG", "BM02/BM02SAS.JPG",
             "BM02/BM02AFS.JPG", "BM02/BM02SUHR.JPG"]
    for n in names:
        _img(tmp_path / "KDEF" / n, mode="RGB", size=(28, 38))
    ds = KDEF(tmp_path)
    assert len(ds) == 6 and ds.classes == list(taxonomy.EKMAN7)
    assert ds[0][0].shape == (3, 38, 28)
    straight = KDEF(tmp_path, angles=("S",))
    assert len(straight) == 3 and set(straight.views) == {"S"}
    assert sorted(straight.class_counts()[c] for c in ("angry", "sad", "fear")) == [1, 1, 1]
    assert set(straight.subjects) == {"F01", "M02"} and set(straight.sessions) == {"A", "B"}
    assert len(KDEF(tmp_path, angles=("hl", "HR"))) == 2
    with pytest.raises(ConfigError, match="FL, HL, S, HR, FR"):
        KDEF(tmp_path, angles=("UP",))
    _img(tmp_path / "KDEF" / "AF01" / "snapshot.jpg")
    with pytest.raises(DatasetError, match="snapshot.jpg"):
        KDEF(tmp_path)


def test_artphoto_prefixes(tmp_path):
    names = ["amusement_1.jpg", "anger_12.jpg", "awe_3.jpg", "contentment_7.jpg", "disgust_2.jpg",
             "excitement_10.jpg", "fear_5.jpg", "sad_4.jpg", "sad_11.jpg"]
    for n in names:
        _img(tmp_path / n, mode="RGB", size=(50, 40))
    ds = ArtPhoto(tmp_path)
    assert ds.classes == list(taxonomy.MIKELS8) and len(ds) == 9
    assert ds.class_counts() == {c: (2 if c == "sadness" else 1) for c in taxonomy.MIKELS8}
    assert ds[0][0].shape == (3, 40, 50)
    assert ArtPhoto(tmp_path, size=32, channels=1)[0][0].shape == (1, 32, 32)
    _img(tmp_path / "joy_1.jpg", mode="RGB")
    with pytest.raises(DatasetError, match="joy_1.jpg"):
        ArtPhoto(tmp_path)


# --------------------------------------------------------------------------- digit files
def test_usps_bz2(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 16, 16)).astype(np.uint8)
    labels = np.arange(12) % 10
    _usps(tmp_path / "usps.bz2", imgs, labels)
    _usps(tmp_path / "usps.t.bz2", imgs[:3], labels[:3])
    ds = USPS(tmp_path, "train")
    assert len(ds) == 12 and ds.targets.tolist() == labels.tolist() and ds.classes == [str(d) for d in range(10)]
    x, y = ds[4]
    assert x.shape == (1, 16, 16) and y == 4
    assert np.abs(x[0].numpy() * 255 - imgs[4]).max() <= 1.5
    assert len(USPS(tmp_path, "test")) == 3
    assert USPS(tmp_path, size=32, channels=3)[0][0].shape == (3, 32, 32)
    with pytest.raises(DatasetNotFoundError, match=r"usps\.t\.bz2.*libsvm"):
        USPS(tmp_path / "none", "test")


def test_mnist_idx_flat_gz_and_torchvision_layout(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (7, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], np.uint8)
    _idx(tmp_path / "flat" / "t10k-images-idx3-ubyte.gz", imgs)
    _idx(tmp_path / "flat" / "t10k-labels-idx1-ubyte.gz", labels)
    ds = MNIST(tmp_path / "flat", "test")
    assert len(ds) == 7 and ds.targets.tolist() == labels.tolist()
    x, y = ds[5]
    assert x.shape == (1, 28, 28) and y == 9 and torch.equal((x[0] * 255).round().to(torch.uint8),
                                                             torch.from_numpy(imgs[5]))
    raw = tmp_path / "tv" / "MNIST" / "raw"
    _idx(raw / "train-images-idx3-ubyte", imgs[:4])
    _idx(raw / "train-labels-idx1-ubyte", labels[:4])
    tr = MNIST(tmp_path / "tv", "train", size=32, channels=3)
    assert len(tr) == 4 and tr[0][0].shape == (3, 32, 32)
    with pytest.raises(DatasetNotFoundError, match="train-images-idx3-ubyte"):
        MNIST(tmp_path / "flat", "train")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 5)
    _idx(tmp_path / "bad" / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(DatasetError, match="truncated"):
        MNIST(tmp_path / "bad")


def test_svhn_mat(tmp_path):
    sio = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (32, 32, 3, 5)).astype(np.uint8)
    y = np.array([[10], [1], [2], [10], [9]], np.uint8)
    sio.savemat(tmp_path / "test_32x32.mat", {"X": x, "y": y})
    ds = SVHN(tmp_path, "test")
    assert len(ds) == 5 and ds.targets.tolist() == [0, 1, 2, 0, 9]
    img, label = ds[1]
    assert img.shape == (3, 32, 32) and label == 1
    assert torch.equal((img * 255).round().to(torch.uint8), torch.from_numpy(x[..., 1]).permute(2, 0, 1))
    assert SVHN(tmp_path, "test", channels=1, size=28)[0][0].shape == (1, 28, 28)
    with pytest.raises(DatasetNotFoundError, match=r"train_32x32\.mat.*ufldl"):
        SVHN(tmp_path, "train")
    with pytest.raises(ConfigError, match="extra"):
        SVHN(tmp_path, "valid")


# --------------------------------------------------------------------------- shared real data
@needs_shared
def test_shared_fer2013_counts():
    root = SHARED / "fer2013"
    train = FER2013(root, "train")
    assert len(train) == 28709
    assert train.class_counts() == {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215,
                                    "neutral": 4965, "sad": 4830, "surprise": 3171}
    assert tuple(np.bincount(train.targets, minlength=7)) == taxonomy.FER2013_TRAIN_COUNTS
    assert len(FER2013(root, "validation")) == 3589 and len(FER2013(root, "test")) == 3589
    for i in (0, 10000, 28708):
        x, y = train[i]
        assert x.shape == (1, 48, 48) and 0 <= y < 7
    x, _ = FER2013(root, "test", size=32, channels=3)[0]
    assert x.shape == (3, 32, 32)


@needs_shared
def test_shared_ckplus48_counts():
    ds = CKPlus48(SHARED / "ckplus48")
    assert len(ds) == 981
    assert ds.class_counts() == {"angry": 135, "disgust": 177, "fear": 75, "happy": 207, "sad": 84,
                                 "surprise": 249, "contempt": 54}
    assert ds[0][0].shape == (1, 48, 48) and ds[980][0].shape == (1, 48, 48)


@needs_shared
def test_shared_usps_counts():
    train, test = USPS(SHARED / "usps", "train"), USPS(SHARED / "usps", "test")
    assert len(train) == 7291 and len(test) == 2007
    assert np.bincount(train.targets).tolist() == [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
    x, _ = test[0]
    assert x.shape == (1, 16, 16) and float(x.max()) <= 1


@needs_shared
def test_shared_mnist_test_counts():
    ds = MNIST(SHARED / "mnist", "test")
    assert len(ds) == 10000
    assert np.bincount(ds.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.targets[:5].tolist() == [7, 2, 1, 0, 4]
    assert ds[0][0].shape == (1, 28, 28)


def test_download_is_opt_in_and_goes_through_torchvision(tmp_path, monkeypatch):
    """download=True asks torchvision to fetch missing files, then reads them; the default never does."""
    import torchvision.datasets as tvd

    calls = []
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    labels = np.arange(6, dtype=np.uint8)

    class FakeMNIST:  # writes what torchvision's MNIST(download=True) leaves behind
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            raw = Path(root) / "MNIST" / "raw"
            _idx(raw / "t10k-images-idx3-ubyte", imgs)
            _idx(raw / "t10k-labels-idx1-ubyte", labels)

    class Offline:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Error downloading: no network")

    monkeypatch.setattr(tvd, "MNIST", FakeMNIST)
    with pytest.raises(DatasetNotFoundError):
        MNIST(tmp_path / "m", "test")  # no download by default
    assert calls == []
    ds = MNIST(tmp_path / "m", "test", download=True)
    assert len(ds) == 6 and calls == [(str(tmp_path / "m"), False, True)]
    MNIST(tmp_path / "m", "test", download=True)  # files present: no second download
    assert len(calls) == 1
    monkeypatch.setattr(tvd, "USPS", Offline)
    monkeypatch.setattr(tvd, "SVHN", Offline)
    with pytest.raises(DatasetNotFoundError, match="could not download.*no network"):
        USPS(tmp_path / "u", "train", download=True)
    with pytest.raises(DatasetNotFoundError, match="could not download"):
        SVHN(tmp_path / "s", "test", download=True)
