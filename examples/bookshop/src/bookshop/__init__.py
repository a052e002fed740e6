"""bookshop: a small bookshop application.

Domain logic (ISBNs, pricing, stock, orders) lives in :mod:`bookshop.domain`,
file work (catalogue import, cover images, sales reports) in
:mod:`bookshop.processing`, persistence in :mod:`bookshop.db` and caching in
:mod:`bookshop.cache`.
"""

__version__ = "0.1.0"
