"""WARC, the web archives' format: the archive's raw pages out (writer), any crawler's pages in (reader)."""

from scraper.warc.reader import WarcImport, check_warc_file, fetch_result_from_record, import_warc
from scraper.warc.writer import export_warc, response_headers, warc_date

__all__ = ["WarcImport", "check_warc_file", "export_warc", "fetch_result_from_record", "import_warc",
           "response_headers", "warc_date"]
