"""Cover images: thumbnails, conversions and colours, on real files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from bookshop.processing.covers import (
    THUMBNAIL_SIZES,
    CoverError,
    convert_cover,
    cover_info,
    dominant_colour,
    hex_colour,
    make_thumbnails,
)

pytestmark = pytest.mark.processing

CoverMaker = Callable[..., Path]


def test_thumbnails_fit_their_boxes(make_cover: CoverMaker, tmp_path: Path) -> None:
    source = make_cover((900, 1350))
    written = make_thumbnails(source, tmp_path / "thumbs")
    assert set(written) == set(THUMBNAIL_SIZES)
    for name, path in written.items():
        info = cover_info(path)
        box = THUMBNAIL_SIZES[name]
        assert info.format == "JPEG"
        assert info.width <= box[0]
        assert info.height <= box[1]
        assert max(info.width / box[0], info.height / box[1]) > 0.98
        assert info.aspect_ratio == pytest.approx(900 / 1350, rel=0.02)
    assert written["small"].name == "cover-small.jpg"


def test_small_covers_are_not_enlarged(make_cover: CoverMaker, tmp_path: Path) -> None:
    source = make_cover((100, 150), name="tiny.png")
    written = make_thumbnails(source, tmp_path / "thumbs", image_format="PNG")
    assert cover_info(written["large"]).width == 100
    assert cover_info(written["medium"]).width == 100
    assert cover_info(written["small"]).width == 80


def test_transparent_png_to_jpeg_is_flattened_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (200, 300), (0, 0, 0, 0))
    image.paste((20, 40, 200, 255), (50, 50, 150, 250))
    source = tmp_path / "logo.png"
    image.save(source)
    dest = convert_cover(source, tmp_path / "out" / "logo.jpg")
    with Image.open(dest) as result:
        assert result.mode == "RGB"
        corner = result.getpixel((5, 5))
        centre = result.getpixel((100, 150))
    assert isinstance(corner, tuple)
    assert isinstance(centre, tuple)
    assert min(corner) > 245
    assert centre[2] > 180 > centre[0]


@pytest.mark.parametrize(("suffix", "fmt"), [(".webp", "WEBP"), (".png", "PNG"), (".gif", "GIF")])
def test_conversion_by_suffix(
    make_cover: CoverMaker, tmp_path: Path, suffix: str, fmt: str
) -> None:
    source = make_cover((300, 450))
    dest = convert_cover(source, tmp_path / f"converted{suffix}", max_size=(200, 200))
    info = cover_info(dest)
    assert info.format == fmt
    assert (info.width, info.height) == (133, 200)


def test_dominant_colour_is_the_title_band(make_cover: CoverMaker) -> None:
    source = make_cover((600, 900), colour=(30, 90, 200))
    r, g, b = dominant_colour(source)
    assert abs(r - 30) < 12
    assert abs(g - 90) < 12
    assert abs(b - 200) < 12
    assert hex_colour((30, 90, 200)) == "#1e5ac8"


def test_exif_orientation_is_applied(make_cover: CoverMaker, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: stored landscape, shown portrait
    source = make_cover((900, 600), name="phone.jpg", exif=exif.tobytes())
    written = make_thumbnails(source, tmp_path / "thumbs", sizes={"only": (400, 600)})
    info = cover_info(written["only"])
    assert (info.width, info.height) == (400, 600)


def test_broken_files_raise_cover_error(tmp_path: Path) -> None:
    not_an_image = tmp_path / "cover.jpg"
    not_an_image.write_bytes(b"this is not a JPEG")
    with pytest.raises(CoverError, match="not a readable image"):
        make_thumbnails(not_an_image, tmp_path / "thumbs")
    with pytest.raises(CoverError, match="cannot tell the image format"):
        convert_cover(not_an_image, tmp_path / "cover.bmpx")


def test_thumbnails_of_a_large_scan(make_cover: CoverMaker, tmp_path: Path) -> None:
    """Slow on purpose: a 3600x5400 lossless scan, thumbnailed to PNG."""
    source = make_cover((3600, 5400), name="scan.png", compress_level=1)
    written = make_thumbnails(source, tmp_path / "thumbs", image_format="PNG")
    assert [cover_info(p).height for p in written.values()] == [120, 300, 600]
    assert dominant_colour(written["large"]) == dominant_colour(source)


def test_large_cover_to_webp(make_cover: CoverMaker, tmp_path: Path) -> None:
    """Slow on purpose: encode a full-size 3200x4800 cover as WebP."""
    source = make_cover((3200, 4800), name="print.jpg", quality=92)
    dest = convert_cover(source, tmp_path / "print.webp", quality=80)
    info = cover_info(dest)
    assert (info.width, info.height, info.format) == (3200, 4800, "WEBP")
    assert dest.stat().st_size < source.stat().st_size * 2
