"""The products of a batch's order lines, looked up once per batch instead of once per line.

A batch of 500 orders of 20 lines asked the database for each line's product (and, with the ORM's autoflush,
wrote the lines before every question): 10,000 look-ups. Here the products a batch names are read in one query per
shop before the first order, and the codes the shop does not know yet are created together, as
``catalog.product_for_line`` creates one (one statement per shop instead of a savepoint and an insert each). Products
are created only for orders already found valid (``order_batches`` checks every order first).
"""
from . import catalog


class LineProducts:
    def __init__(self, session, company_id):
        self.session, self.company_id = session, company_id
        self.known = {}  # (shop id, code) → its ProductRow (id, code, name, price), as stored or created

    def preload(self, orders):
        """Read at once the products the orders name, per shop: ``orders`` as checked (their codes folded by the
        schema), the orders refused left out."""
        wanted = {}
        for values in orders:
            codes = wanted.setdefault(values["shop_id"], set())
            codes.update(line["product_code"] for line in values["lines"])
        for shop_id, codes in wanted.items():
            self.known.update(((shop_id, code), product) for code, product
                              in catalog.products_by_code(self.session, self.company_id, shop_id, codes).items())

    def create(self, wanted):
        """Create at once the products of ``wanted`` ((shop id, code) → (name, price) of the first line naming it)
        the shop does not know yet (``catalog.products_for_lines``)."""
        missing = {key: made_of for key, made_of in wanted.items() if key not in self.known}
        if missing:
            self.known.update(catalog.products_for_lines(self.session, self.company_id, missing))
