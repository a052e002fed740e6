"""Generators of real input files for the processing suite."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bookshop.processing.reports import Sale

AUTHORS = ["Émile Zola", "Charlotte Brontë", "Hans Christian Ørsted", "Jane Austen", "Lu Xun"]

CatalogueWriter = Callable[..., Path]
CoverMaker = Callable[..., Path]


@pytest.fixture
def write_catalogue_csv(tmp_path: Path, make_isbn: Callable[[int], str]) -> CatalogueWriter:
    """Write a catalogue of ``rows`` rows; every ``bad_every``-th row gets a bad price.

    Returns the path. The text is built directly (as a supplier's system
    would), not through bookshop's own writer.
    """

    def write(
        rows: int,
        *,
        name: str = "catalogue.csv",
        encoding: str = "utf-8",
        delimiter: str = ",",
        bad_every: int | None = None,
        seed: int = 1,
    ) -> Path:
        rng = random.Random(seed)
        d = delimiter
        lines = [d.join(("ISBN", "Title", "Author", "Price", "Quantity", "Year", "VAT"))]
        for n in range(rows):
            price = (
                "n/a"
                if bad_every and n % bad_every == bad_every - 1
                else (f"{rng.randint(199, 4999) / 100:.2f}")
            )
            lines.append(
                d.join(
                    (
                        make_isbn(n),
                        f"Volume {n} of the collected works",
                        AUTHORS[n % len(AUTHORS)],
                        price,
                        str(rng.randint(0, 40)),
                        str(1900 + n % 120),
                        "standard" if n % 10 == 0 else "zero",
                    )
                )
            )
        path = tmp_path / name
        path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding, newline="")
        return path

    return write


@pytest.fixture
def make_cover(tmp_path: Path) -> CoverMaker:
    """Write a synthetic cover: a noisy gradient with a coloured title band."""

    def make(
        size: tuple[int, int] = (600, 900),
        *,
        name: str = "cover.jpg",
        mode: str = "RGB",
        colour: tuple[int, int, int] = (180, 30, 40),
        **save_options: Any,
    ) -> Path:
        width, height = size
        small = (max(width // 10, 1), max(height // 10, 1))
        texture = Image.merge(
            "RGB",
            (
                Image.effect_noise(small, 40),
                Image.linear_gradient("L").resize(small),
                Image.effect_noise(small, 20),
            ),
        ).resize(size, Image.Resampling.BICUBIC)
        band = Image.new("RGB", (width, height * 2 // 3), colour)
        texture.paste(band, (0, height // 6))
        image = texture.convert(mode) if mode != "RGB" else texture
        path = tmp_path / name
        image.save(path, **save_options)
        return path

    return make


@pytest.fixture
def make_sales(make_isbn: Callable[[int], str]) -> Callable[[int], list[Sale]]:
    def make(count: int, *, titles: int = 500, seed: int = 7) -> list[Sale]:
        rng = random.Random(seed)
        start = date(2024, 1, 1)
        prices = {n: Decimal(rng.randint(299, 2999)) / 100 for n in range(titles)}
        sales = []
        for _ in range(count):
            n = rng.randrange(titles)
            sales.append(
                Sale(
                    isbn=make_isbn(n),
                    title=f"Title {n}",
                    quantity=rng.randint(1, 4),
                    unit_price=prices[n],
                    sold_on=start + timedelta(days=rng.randrange(366)),
                )
            )
        return sales

    return make
