"""集計: the reports, each computed by one statement (or a few) over a company's store, the same tables and the same
engine as 検索 (``catalogue.py`` lists them, ``running.py`` runs one)."""
