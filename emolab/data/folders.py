"""Image datasets read from files a user downloaded: the shared machinery.

Every real dataset of :mod:`emolab.data.real` is one of three kinds, all
following the dataset API of the project (``(image, label)`` items, a float
tensor ``[C, H, W]`` in ``[0, 1]`` by default, ``classes``, ``targets``,
``name``):

* :class:`ClassFolderDataset` — the common "one folder per class" layout
  (``ROOT/<class>/*.png``, what :class:`torchvision.datasets.ImageFolder`
  reads), with the folder names translated into our category names through
  :mod:`emolab.data.taxonomy`;
* :class:`ImageFileDataset` — a list of ``(path, label)`` pairs built by an
  adapter that reads the labels from the file names (JAFFE, KDEF, ArtPhoto);
* :class:`ArrayImageDataset` — images already in memory as a ``uint8`` array
  (FER2013's CSV, USPS, MNIST, SVHN).

They share one default transform (:func:`default_transform`): convert the PIL
image to ``L`` (1 channel) or ``RGB`` (3 channels), resize to ``size x size``
when a size is given, then ``ToTensor``. Listing the files never decodes an
image, so building a dataset and counting its classes (``np.bincount(ds.targets)``)
is fast even for tens of thousands of files; an image is decoded only when it
is indexed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from emolab.core.errors import ConfigError, DatasetError, DatasetNotFoundError
from emolab.data import taxonomy

__all__ = [
    "IMG_EXTENSIONS",
    "ArrayImageDataset",
    "ClassFolderDataset",
    "ImageFileDataset",
    "ImageTransform",
    "default_transform",
    "image_channels",
    "list_images",
]

#: PIL modes that hold one channel; every other mode is read as RGB.
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


# --------------------------------------------------------------------------- transforms
def _check_size_channels(size, channels) -> None:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ConfigError(f"size must be a positive integer (square side in pixels) or None, got {size!r}")
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels must be 1, 3 or None (native), got {channels!r}")


def image_channels(mode: str) -> int:
    """Channels a PIL image of ``mode`` gets by default: 1 for grayscale modes, else 3."""
    return 1 if mode in GRAY_MODES else 3


def _to_8bit_gray(img: Image.Image) -> Image.Image:
    """``L`` from any grayscale mode; 16-bit and float images are rescaled, not clipped."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        a = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if img.mode.startswith("I;16") else max(float(a.max()), 1.0)
        if img.mode == "F" and a.max() <= 1.0:
            hi = 1.0
        return Image.fromarray(np.clip(a / hi * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    return img.convert("L")


def apply_transforms(img, target: int, transform: Callable | None, target_transform: Callable | None):
    """The torchvision convention every dataset follows: ``(transform(img), target_transform(target))``."""
    if transform is not None:
        img = transform(img)
    if target_transform is not None:
        target = target_transform(target)
    return img, target


class ImageTransform:
    """The default transform: PIL image -> ``L``/``RGB`` -> resize -> float tensor in [0, 1].

    ``channels`` 1 gives ``L`` (ITU-R 601-2 luma), 3 gives ``RGB`` (a grayscale
    image is repeated on the three channels), ``None`` keeps the image's own
    kind (see :func:`image_channels`). ``size`` resizes to ``size x size``
    (bilinear, antialiased; the aspect ratio is not kept, the face and digit
    datasets here are square already); ``None`` keeps the native size.
    """

    def __init__(self, size: int | None = None, channels: int | None = None):
        _check_size_channels(size, channels)
        self.size = size
        self.channels = channels

    def __call__(self, img: Image.Image) -> torch.Tensor:
        c = self.channels if self.channels is not None else image_channels(img.mode)
        img = _to_8bit_gray(img) if c == 1 else img.convert("RGB")
        if self.size is not None and img.size != (self.size, self.size):
            img = TF.resize(img, [self.size, self.size], interpolation=InterpolationMode.BILINEAR,
                            antialias=True)
        return TF.to_tensor(img)

    def __repr__(self) -> str:
        return f"ImageTransform(size={self.size}, channels={self.channels})"


def default_transform(size: int | None = None, channels: int | None = None) -> ImageTransform:
    """The transform every dataset of :mod:`emolab.data` applies unless given another one."""
    return ImageTransform(size, channels)


# --------------------------------------------------------------------------- base
class _ImageDataset(torch.utils.data.Dataset):
    """What the three kinds share: classes, targets, name, the transforms and ``__getitem__``."""

    def __init__(self, classes: Sequence[str], targets, name: str, *, size=None, channels=None,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 root=None):
        _check_size_channels(size, channels)
        self.classes = list(classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.targets = np.asarray(targets, dtype=np.int64).reshape(-1)
        self.name = name
        self.root = None if root is None else Path(root)
        self.size = size
        self.channels = channels
        self.transform = transform if transform is not None else default_transform(size, channels)
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.targets)

    def _load(self, index: int) -> Image.Image:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {self.name} with {len(self)} items")
        index = index % len(self)
        return apply_transforms(self._load(index), int(self.targets[index]),
                                self.transform, self.target_transform)

    def class_counts(self) -> dict[str, int]:
        """``{class name: number of items}``, from the targets (no image is decoded)."""
        counts = np.bincount(self.targets, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} {self.name!r}: {len(self)} items, {len(self.classes)} classes"]
        if self.root is not None:
            lines.append(f"    root: {self.root}")
        lines.append(f"    classes: {', '.join(self.classes)}")
        lines.append(f"    transform: {self.transform!r}")
        return "\n".join(lines)


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open and fully decode one image file; a file PIL cannot decode raises DatasetError naming it."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy() if img.mode != "P" else img.convert("RGBA" if "transparency" in img.info
                                                                  else "RGB")
    except FileNotFoundError as exc:
        raise DatasetNotFoundError(f"image file {path} has disappeared since the dataset was listed") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"cannot decode image file {path}: {exc}. "
                           "Replace or delete the file (it may be truncated or not an image).") from exc


class ImageFileDataset(_ImageDataset):
    """Images listed as ``(path, label index)`` pairs; decoded one at a time in ``__getitem__``.

    ``samples`` holds the pairs, ``paths`` the paths alone. With ``channels``
    None every image gets the channel count of the **first** listed file
    (its PIL mode, read from the header without decoding), so that a folder of
    grayscale faces gives 1-channel tensors and a folder of photographs
    3-channel ones, and all items of one dataset agree.
    """

    def __init__(self, samples: Sequence[tuple[str, int]], classes: Sequence[str], name: str, *,
                 size: int | None = None, channels: int | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None, root=None):
        self.samples = [(str(p), int(t)) for p, t in samples]
        if channels is None and self.samples and transform is None:
            channels = self._native_channels(self.samples[0][0])
        super().__init__(classes, [t for _, t in self.samples], name, size=size, channels=channels,
                         transform=transform, target_transform=target_transform, root=root)

    @staticmethod
    def _native_channels(path: str) -> int:
        try:
            with Image.open(path) as img:  # reads the header only
                return image_channels(img.mode)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise DatasetError(f"cannot decode image file {path}: {exc}. "
                               "Replace or delete the file (it may be truncated or not an image).") from exc

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self.samples]

    def _load(self, index: int) -> Image.Image:
        return load_image(self.samples[index][0])


class ArrayImageDataset(_ImageDataset):
    """Images held in memory: ``data`` is ``uint8`` ``[N, H, W]`` (grayscale) or ``[N, H, W, 3]`` (RGB)."""

    def __init__(self, data: np.ndarray, targets, classes: Sequence[str], name: str, *,
                 size: int | None = None, channels: int | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None, root=None):
        data = np.asarray(data)
        if data.dtype != np.uint8 or data.ndim not in (3, 4) or (data.ndim == 4 and data.shape[-1] != 3):
            raise DatasetError(f"{name}: expected uint8 images [N, H, W] or [N, H, W, 3], "
                               f"got {data.dtype} {data.shape}")
        if len(data) != len(np.asarray(targets).reshape(-1)):
            raise DatasetError(f"{name}: {len(data)} images but {len(np.asarray(targets).reshape(-1))} labels")
        self.data = data
        super().__init__(classes, targets, name, size=size, channels=channels, transform=transform,
                         target_transform=target_transform, root=root)

    def _load(self, index: int) -> Image.Image:
        a = self.data[index]
        return Image.fromarray(a, mode="L" if a.ndim == 2 else "RGB")


# --------------------------------------------------------------------------- class folders
def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("__")


def list_images(root: str | os.PathLike, extensions: Sequence[str] = IMG_EXTENSIONS) -> list[Path]:
    """Every file under ``root`` (recursively, sorted, hidden entries skipped) with an image extension."""
    exts = tuple(e.lower() for e in extensions)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        out.extend(Path(dirpath) / f for f in sorted(filenames)
                   if not _is_hidden(f) and f.lower().endswith(exts))
    return sorted(out)


def _resolve_map(classes_map) -> tuple[Callable[[str], str | None], list[str]]:
    """``(folder name -> category or None, known folder names)`` from a taxonomy key, mapping or callable."""
    if isinstance(classes_map, str):
        key = classes_map
        if key not in taxonomy.LABEL_MAPS:
            raise ConfigError(f"no label map {key!r} in emolab.data.taxonomy; "
                              f"known: {', '.join(taxonomy.LABEL_MAPS)}")
        table = taxonomy.LABEL_MAPS[key]
        known = sorted({str(k) for k in table}, key=lambda s: (s.isdigit(), s))

        def lookup(folder: str):
            for cand in (folder, folder.lower(), int(folder) if folder.isdigit() else None):
                if cand is not None and cand in table:
                    return table[cand]
            raise KeyError(folder)

        return lookup, known
    if isinstance(classes_map, Mapping):
        table = {str(k): v for k, v in classes_map.items()}
        lower = {k.lower(): v for k, v in table.items()}

        def lookup(folder: str):
            if folder in table:
                return table[folder]
            if folder.lower() in lower:
                return lower[folder.lower()]
            raise KeyError(folder)

        return lookup, sorted(table, key=lambda s: (s.isdigit(), s))
    if callable(classes_map):
        return classes_map, []
    raise ConfigError(f"classes_map must be a taxonomy key ({', '.join(taxonomy.LABEL_MAPS)}), "
                      f"a mapping or a callable, got {type(classes_map).__name__}")


class ClassFolderDataset(ImageFileDataset):
    """Images in class folders, ``ROOT/<class>/**/*.<ext>``, labelled with our category names.

    Built on torchvision's :func:`~torchvision.datasets.folder.make_dataset`
    (the file listing of :class:`~torchvision.datasets.ImageFolder`): sub-folders
    of a class folder are searched too, files are taken in sorted order, only
    files with one of ``extensions`` count, and hidden folders (``.x``,
    ``__x``) are skipped.

    Parameters
    ----------
    root:
        The folder that holds the class folders.
    classes_map:
        How a folder name becomes a category: the name of a label map of
        :mod:`emolab.data.taxonomy` (``"fer2013"``, ``"ckplus"``, ``"affectnet"``,
        ..., looked up with :func:`~emolab.data.taxonomy.to_category`, so that
        ``anger`` and ``angry`` both become ``angry`` and AffectNet's folder
        ``6`` becomes ``angry``), a ``{folder name: category}`` mapping, or a
        callable that raises ``KeyError`` for an unknown name. Matching is
        case-insensitive; a folder that maps to ``None`` (no counterpart in our
        vocabulary) is left out. A folder the map does not know is an error
        (DatasetError listing the known folder names), not silently skipped.
    dataset_name:
        ``self.name``, used in messages.
    source_hint:
        Where the data comes from (URL, paper, how to request it); quoted when
        ``root`` is missing.
    size, channels, transform, target_transform:
        As everywhere in :mod:`emolab.data` (see :class:`ImageTransform`).
    extensions:
        File name endings that count as images (case-insensitive).
    categories:
        The canonical category order (default
        :data:`~emolab.data.taxonomy.FACE_CATEGORIES`). With ``classes=None``
        the dataset's ``classes`` are these categories **filtered to those
        present** on disk (CK+48, which has no neutral folder, gets 7 classes).
    classes:
        A fixed label space instead (every category of it is a class, even
        when no folder holds it); adapters with several splits pass one, so
        that the label indices of ``train`` and ``test`` agree. A folder whose
        category is outside it is an error.
    layout:
        The expected layout as a phrase for messages; default ``ROOT/<class>/*.png``
        with the known class folder names.
    """

    def __init__(self, root, classes_map, dataset_name: str, source_hint: str, size: int | None = None,
                 channels: int | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None, extensions: Sequence[str] = IMG_EXTENSIONS, *,
                 categories: Sequence[str] = taxonomy.FACE_CATEGORIES, classes: Sequence[str] | None = None,
                 layout: str | None = None):
        _check_size_channels(size, channels)
        root = Path(os.path.expanduser(str(root)))
        lookup, known = _resolve_map(classes_map)
        self.known_folders = known
        self.source_hint = source_hint
        extensions = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        if layout is None:
            ext = extensions[0] if extensions else ".png"
            names = f" (class folders: {', '.join(known)})" if known else ""
            layout = f"ROOT/<class>/*{ext}{names}"
        self.layout = layout
        if not root.is_dir():
            raise DatasetNotFoundError(
                f"{dataset_name}: no folder {root}. Expected layout: {layout}. "
                f"Where to get it: {source_hint}")
        folders = sorted(e.name for e in os.scandir(root) if e.is_dir() and not _is_hidden(e.name))
        if not folders:
            raise DatasetNotFoundError(
                f"{dataset_name}: {root} holds no class folders. Expected layout: {layout}. "
                f"Where to get it: {source_hint}")
        folder_category: dict[str, str] = {}
        for folder in folders:
            try:
                cat = lookup(folder)
            except KeyError:
                raise DatasetError(
                    f"{dataset_name}: unknown class folder {folder!r} in {root}; known class folders: "
                    f"{', '.join(known) if known else '(see the class map)'}. Rename or remove it.") from None
            if cat is not None:
                folder_category[folder] = cat
        present = set(folder_category.values())
        if classes is None:
            order = list(categories)
            extra = sorted(present - set(order))
            if extra:
                raise DatasetError(f"{dataset_name}: categories {extra} are not in the canonical order {order}")
            classes = [c for c in order if c in present]
        else:
            classes = list(classes)
            outside = sorted({f for f, c in folder_category.items() if c not in classes})
            if outside:
                raise DatasetError(
                    f"{dataset_name}: class folders {outside} in {root} map to categories outside "
                    f"this dataset's classes {classes}; known class folders: {', '.join(known)}")
        class_to_idx = {f: classes.index(c) for f, c in folder_category.items()}
        samples = make_dataset(str(root), class_to_idx, extensions=extensions, allow_empty=True) \
            if class_to_idx else []
        samples = [(p, t) for p, t in samples
                   if not any(_is_hidden(part) for part in Path(p).relative_to(root).parts)]
        if not samples:
            raise DatasetNotFoundError(
                f"{dataset_name}: the class folders of {root} hold no image files "
                f"({', '.join(extensions)}). Expected layout: {layout}. Where to get it: {source_hint}")
        self.folder_to_category = folder_category
        super().__init__(samples, classes, dataset_name, size=size, channels=channels, transform=transform,
                         target_transform=target_transform, root=root)
