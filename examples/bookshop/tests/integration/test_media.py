"""Covers and reports written under MEDIA_ROOT, with orders from PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from PIL import Image

from bookshop.db import BookshopService, OrderRepository
from bookshop.domain.orders import OrderStatus
from bookshop.domain.pricing import VatCategory
from bookshop.processing import (
    CoverInfo,
    Sale,
    convert_cover,
    cover_info,
    dominant_colour,
    export_sales_report,
    make_thumbnails,
    read_sales_report,
)
from bookshop.processing.catalogue import CatalogueRow

from .conftest import PRIDE_ISBN, PRIDE_TITLE, a_later_request


def names(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def upload(tmp_path: Path, colour: tuple[int, int, int, int], size: tuple[int, int]) -> Path:
    """A cover as a publisher would upload it (outside MEDIA_ROOT)."""
    image = Image.new("RGBA", size, colour)
    band = Image.effect_noise((size[0], size[1] // 8), 30).convert("RGBA")
    image.paste(band, (0, 0))
    path = tmp_path / "upload.png"
    image.save(path)
    return path


def test_deleting_a_cover_leaves_media_root_empty(media_root: Path, tmp_path: Path) -> None:
    assert names(media_root) == []
    cover = convert_cover(
        upload(tmp_path, (0, 120, 60, 255), (200, 300)), media_root / "covers" / "cover.png"
    )
    assert names(media_root / "covers") == ["cover.png"]
    a_later_request()
    cover.unlink()
    cover.parent.rmdir()
    assert names(media_root) == []


def test_cover_and_thumbnails_in_media_root(media_root: Path, tmp_path: Path) -> None:
    covers = media_root / "covers"
    assert not covers.exists()
    assert names(media_root) == []
    source = upload(tmp_path, (190, 20, 30, 255), (600, 900))
    cover = convert_cover(source, covers / "cover.jpg")
    thumbnails = make_thumbnails(cover, covers, stem="cover")
    assert names(covers) == ["cover-large.jpg", "cover-medium.jpg", "cover-small.jpg", "cover.jpg"]
    assert cover_info(covers / "cover.jpg") == CoverInfo(600, 900, "JPEG", "RGB")
    assert cover_info(thumbnails["small"]).height == 120
    red, green, blue = dominant_colour(covers / "cover.jpg")
    assert red > 150 > max(green, blue)


def test_transparent_cover_keeps_alpha_as_png(media_root: Path, tmp_path: Path) -> None:
    covers = media_root / "covers"
    assert names(media_root) == []
    source = upload(tmp_path, (20, 40, 200, 128), (400, 600))
    convert_cover(source, covers / "cover.png")
    convert_cover(source, covers / "cover.jpg", max_size=(200, 300))
    assert names(covers) == ["cover.jpg", "cover.png"]
    assert cover_info(covers / "cover.png") == CoverInfo(400, 600, "PNG", "RGBA")
    assert cover_info(covers / "cover.jpg") == CoverInfo(200, 300, "JPEG", "RGB")
    red, _, blue = dominant_colour(covers / "cover.png")
    assert blue > 150 > red


def test_sales_report_of_shipped_orders(
    service: BookshopService, media_root: Path, make_isbn: Callable[[int], str]
) -> None:
    assert names(media_root) == []
    emma = make_isbn(2)
    service.import_catalogue(
        [
            CatalogueRow(PRIDE_ISBN, PRIDE_TITLE, "Jane Austen", Decimal("8.99"), 10),
            CatalogueRow(emma, "Emma", "Jane Austen", Decimal("6.50"), 10, vat=VatCategory.ZERO),
        ]
    )
    for email, items in [
        ("ada@example.com", {PRIDE_ISBN: 2, emma: 1}),
        ("grace@example.com", {emma: 3}),
    ]:
        order_id = service.place_order(email, items)
        with service.session_factory() as session:
            total = OrderRepository(session).get(order_id).total
        service.pay_order(order_id, total)
        service.ship_order(order_id)
    with service.session_factory() as session:
        sales = [
            Sale(
                isbn=line.book.isbn,
                title=line.book.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                sold_on=(order.shipped_at or datetime.now(UTC)).date(),
            )
            for order in OrderRepository(session).with_status(OrderStatus.SHIPPED)
            for line in order.lines
        ]
    summary = export_sales_report(sales, media_root / "reports" / "sales.csv")
    assert (summary.lines, summary.units, summary.revenue) == (2, 6, Decimal("43.98"))
    assert names(media_root) == ["reports"]
    assert names(media_root / "reports") == ["sales.csv"]
    lines = read_sales_report(media_root / "reports" / "sales.csv")
    assert [(line.isbn, line.units) for line in lines] == [(emma, 4), (PRIDE_ISBN, 2)]
