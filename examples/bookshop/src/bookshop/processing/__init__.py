"""File work: catalogue import, cover images and sales reports."""

from bookshop.processing.catalogue import (
    CatalogueFormatError,
    CatalogueRow,
    ImportReport,
    RowError,
    detect_encoding,
    import_catalogue_file,
    parse_catalogue,
    write_catalogue,
)
from bookshop.processing.covers import (
    THUMBNAIL_SIZES,
    CoverError,
    CoverInfo,
    convert_cover,
    cover_info,
    dominant_colour,
    make_thumbnails,
)
from bookshop.processing.reports import (
    ReportLine,
    ReportSummary,
    Sale,
    daily_totals,
    export_sales_report,
    read_sales_report,
    summarise_sales,
)

__all__ = [
    "THUMBNAIL_SIZES",
    "CatalogueFormatError",
    "CatalogueRow",
    "CoverError",
    "CoverInfo",
    "ImportReport",
    "ReportLine",
    "ReportSummary",
    "RowError",
    "Sale",
    "convert_cover",
    "cover_info",
    "daily_totals",
    "detect_encoding",
    "dominant_colour",
    "export_sales_report",
    "import_catalogue_file",
    "make_thumbnails",
    "parse_catalogue",
    "read_sales_report",
    "summarise_sales",
    "write_catalogue",
]
