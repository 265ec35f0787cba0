"""`scrape import`: the pages of the captures a reader's browser or a crawler saved (WARC, WACZ, HAR, MHTML,
SingleFile and saved HTML), through one loop shared by every format.

    loop      captures in → ingest → run ledger: which entries are the site's pages, one run per import
    formats   which capture a file is, by its content, and its reader; the files a command line names
    har, mhtml, saved, wacz   one reader each (WARC's is scraper.warc.reader)

Import the modules themselves (scraper.imports.formats, scraper.imports.loop): this package imports nothing,
so the WARC reader and the loop can import each other's package without a cycle.
"""
