"""Cover images: thumbnails, format conversion and dominant colour (Pillow)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

THUMBNAIL_SIZES: Mapping[str, tuple[int, int]] = {
    "small": (80, 120),
    "medium": (200, 300),
    "large": (400, 600),
}
EXTENSIONS: Mapping[str, str] = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
FORMATS_BY_SUFFIX: Mapping[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
}
# Formats that cannot store transparency: alpha is flattened onto this colour.
_OPAQUE_FORMATS = frozenset({"JPEG"})
BACKGROUND = (255, 255, 255)

StrPath = str | os.PathLike[str]


class CoverError(ValueError):
    """The file is not a usable cover image."""


@dataclass(frozen=True, slots=True)
class CoverInfo:
    width: int
    height: int
    format: str
    mode: str

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height


def _open(source: StrPath) -> Image.Image:
    """Open and fully decode an image, applying its EXIF orientation."""
    try:
        with Image.open(source) as image:
            image.load()
            return ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError) as exc:
        raise CoverError(f"{os.fspath(source)} is not a readable image: {exc}") from None


def cover_info(source: StrPath) -> CoverInfo:
    try:
        with Image.open(source) as image:
            return CoverInfo(image.width, image.height, image.format or "unknown", image.mode)
    except (UnidentifiedImageError, OSError) as exc:
        raise CoverError(f"{os.fspath(source)} is not a readable image: {exc}") from None


def _prepare(image: Image.Image, image_format: str) -> Image.Image:
    """Bring the image to a mode that ``image_format`` can save."""
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    if image_format in _OPAQUE_FORMATS:
        if has_alpha:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, BACKGROUND)
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if image.mode in ("RGB", "RGBA", "L", "LA") or (image.mode == "P" and image_format == "GIF"):
        return image
    return image.convert("RGBA" if has_alpha else "RGB")


def _format_for(dest: Path, image_format: str | None) -> str:
    if image_format is not None:
        chosen = image_format.upper()
        if chosen not in EXTENSIONS:
            raise CoverError(f"unsupported format {image_format!r}")
        return chosen
    try:
        return FORMATS_BY_SUFFIX[dest.suffix.lower()]
    except KeyError:
        raise CoverError(f"cannot tell the image format from {dest.name!r}") from None


def _save(image: Image.Image, dest: Path, image_format: str, quality: int) -> None:
    options: dict[str, object] = {}
    if image_format in ("JPEG", "WEBP"):
        options["quality"] = quality
    if image_format == "JPEG":
        options["optimize"] = True
        options["progressive"] = True
    if image_format == "PNG":
        options["optimize"] = True
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    image.save(tmp, format=image_format, **options)
    tmp.replace(dest)


def convert_cover(
    source: StrPath,
    dest: StrPath,
    *,
    image_format: str | None = None,
    quality: int = 85,
    max_size: tuple[int, int] | None = None,
) -> Path:
    """Convert a cover to another format (taken from ``dest``'s suffix unless given).

    Transparency is flattened onto white for formats without alpha. With
    ``max_size`` the image is also scaled down to fit, keeping its aspect ratio.
    """
    target = Path(dest)
    chosen = _format_for(target, image_format)
    image = _open(source)
    if max_size is not None:
        image.thumbnail(max_size, Image.Resampling.LANCZOS)
    _save(_prepare(image, chosen), target, chosen, quality)
    return target


def make_thumbnails(
    source: StrPath,
    dest_dir: StrPath,
    *,
    sizes: Mapping[str, tuple[int, int]] = THUMBNAIL_SIZES,
    image_format: str = "JPEG",
    quality: int = 85,
    stem: str | None = None,
) -> dict[str, Path]:
    """Write one thumbnail per entry of ``sizes``, each fitting inside its box.

    Files are named ``{stem}-{size name}{ext}`` in ``dest_dir``; returns the
    paths by size name. Images smaller than a box are not enlarged.
    """
    chosen = _format_for(Path(dest_dir), image_format)
    out_dir = Path(dest_dir)
    name = stem or Path(source).stem
    image = _prepare(_open(source), chosen)
    # Largest box first, so each smaller thumbnail is made from the previous
    # one when that is still at least twice as large (much less work).
    ordered = sorted(sizes.items(), key=lambda item: item[1][0] * item[1][1], reverse=True)
    written: dict[str, Path] = {}
    base = image
    for size_name, box in ordered:
        if box[0] < 1 or box[1] < 1:
            raise CoverError(f"thumbnail size {size_name!r} must be positive, got {box}")
        thumb = base.copy()
        thumb.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=3.0)
        path = out_dir / f"{name}-{size_name}{EXTENSIONS[chosen]}"
        _save(thumb, path, chosen, quality)
        written[size_name] = path
        if thumb.width * 2 <= base.width:
            base = thumb
    return {size_name: written[size_name] for size_name in sizes}


def dominant_colour(
    source: StrPath | Image.Image, *, palette_size: int = 8, sample: int = 256
) -> tuple[int, int, int]:
    """The most common colour after reducing the image to ``palette_size`` colours."""
    image = source if isinstance(source, Image.Image) else _open(source)
    rgb = image.convert("RGB")
    if max(rgb.size) > sample:
        rgb.thumbnail((sample, sample), Image.Resampling.BILINEAR)
    reduced = rgb.quantize(colors=palette_size, method=Image.Quantize.MEDIANCUT)
    colours = reduced.getcolors(maxcolors=palette_size)
    palette = reduced.getpalette() or []
    if not colours:  # pragma: no cover - quantize always yields colours
        raise CoverError("image has no colours")
    _, index = max(colours, key=lambda pair: pair[0])
    if not isinstance(index, int):  # pragma: no cover - P images give indices
        raise CoverError("unexpected palette entry")
    r, g, b = palette[index * 3 : index * 3 + 3]
    return (r, g, b)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
