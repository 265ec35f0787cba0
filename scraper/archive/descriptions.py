"""What each table, view and column of the archive holds, in words: Datasette's metadata (scraper.datasette)
shows them on every table page. No SQL: the schema (scraper.archive.schema) is what they describe, and
tests/test_datasette.py checks every table and view of it is described."""

from __future__ import annotations

from scraper.ledger import RUN_COUNTS

_FETCH_COLUMNS = {
    "id": "Row id", "run_id": "The run (command) that made the request", "url": "URL asked",
    "final_url": "URL after redirects", "status": "HTTP status (empty for a local file or a WARC resource)",
    "fetched_at": "When (UTC)", "elapsed": "Seconds taken", "bytes": "Body size (decoded)",
    "etag": "ETag, for conditional requests", "last_modified": "Last-Modified, for conditional requests",
    "content_type": "Content-Type", "sha256": "The body, in `bodies`", "error": "What went wrong, if anything",
    "error_class": "Kind of failure (timeout, connect, tls, http_status, robots, ...)",
    "retries": "Retries before the outcome",
    "cookies_sent": "1 when the request that got the answer carried session cookies",
    "source": "http, file (a saved page), or the capture it was imported from: warc, wacz, har, mhtml,"
              " singlefile",
    "attempts": "Every request of a fetch that took more than one (retries, redirect hops): URL, status or"
                " error class, cookies sent, seconds waited before the next (JSON)",
}

# table -> (description, label column or None, {column: description})
TABLES: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "articles": (
        "One row per article (natural key: the site's numeric id, else the canonical URL). "
        "Full-text search covers title, kicker, teaser and body.",
        "title",
        {
            "id": "Row id in this archive",
            "site_id": "The site's numeric post id (the NNNNNN of /NNNNNN/slug/)",
            "url": "Canonical URL",
            "kicker": "The rubric line above the title (surtitre)",
            "title": "Title",
            "published_at": "Publication date: YYYY-MM-DD, or the date-time with its offset (Paris time)",
            "updated_at": "Date of the last update shown by the page (« Mis à jour le »)",
            "teaser": "The lead paragraph (chapô)",
            "body": "The free part of the text (the paywalled part is not on the page)",
            "image_url": "Main image",
            "image_alt": "Main image's alternative text",
            "image_credit": "Main image's credit",
            "dossier_id": "The dossier the article belongs to",
            "is_paywalled": "1 when the article is reserved to subscribers",
            "comments_count": "Number of comments the page announces",
            "warnings": "JSON list of what the parser could not read on the page",
            "record": "JSON of what has no column: the dossier as the page named it (the row page shows the"
                      " whole record, from the view article_records)",
            "fetch_id": "The fetch this version of the article was read from",
            "first_seen_at": "When the article was first archived",
            "last_seen_at": "When the article was last fetched",
            "changed_at": "When the article's content last changed (see article_versions)",
        },
    ),
    "dossiers": (
        "Dossiers: thematic series of articles, with their table of contents in dossier_articles.",
        "title",
        {
            "id": "Row id in this archive",
            "url": "The dossier's URL (its first page)",
            "title": "Title",
            "intro": "Introduction text",
            "first_seen_at": "When the dossier was first archived",
            "last_seen_at": "When a page of the dossier was last fetched",
        },
    ),
    "dossier_articles": (
        "A dossier's table of contents, in page order (the articles may not all be archived).",
        None,
        {
            "dossier_id": "The dossier",
            "page": "Page of the table of contents (1, 2, ...)",
            "position": "Position on that page, from 1",
            "url": "The article's URL",
            "site_id": "The site's numeric post id",
            "article_id": "The archived article, when it is archived",
            "title": "Title as listed",
            "kicker": "Kicker as listed",
            "teaser": "Teaser as listed",
            "is_paywalled": "1 when the listing marks the article as reserved to subscribers",
            "section": "The heading the article is listed under (« Au sommaire du dossier »…)",
        },
    ),
    "listings": (
        "Rubric listing pages (e.g. /rubriques/club-technicites/ and its pages).",
        "title",
        {"url": "The listing page's URL", "title": "Title", "next_page": "URL of the next page",
         "last_seen_at": "When the page was last fetched"},
    ),
    "listing_items": (
        "The entries of each listing page, in page order.",
        None,
        {"listing_url": "The listing page", "position": "Position on the page, from 1",
         "url": "The article's URL", "site_id": "The site's numeric post id",
         "article_id": "The archived article, when it is archived", "title": "Title as listed",
         "kicker": "Kicker as listed", "teaser": "Teaser as listed",
         "is_paywalled": "1 when the listing marks the article as reserved to subscribers",
         "section": "The heading of the section the article is listed under (« À la une », « Club Techni.Cités »…)"},
    ),
    "canary_flags": (
        "Pages that lacked what most pages of their kind had (the site's markup may have changed), or whose "
        "article links the parser could not all read. Cleared when the page is read whole again.",
        None,
        {"url": "The page", "kind": "article, dossier or listing", "article_id": "The archived article (articles)",
         "fetch_id": "The fetch that was read", "missing": "JSON list of what was missing: core fields, or "
         "« article links »", "detail": "What was found on the recent pages of its kind, or the links not read",
         "flagged_at": "When the page was flagged"},
    ),
    "authors": ("Authors, one row per name.", "name", {"id": "Row id", "name": "Name as signed"}),
    "article_authors": (
        "Who signed which article, in the order of the byline.",
        None,
        {"article_id": "The article", "position": "Order in the byline, from 0", "author_id": "The author"},
    ),
    "themes": ("Themes (« Thèmes abordés »), one row per name.", "name", {"id": "Row id", "name": "Theme"}),
    "article_themes": (
        "The themes of each article, in page order.",
        None,
        {"article_id": "The article", "position": "Order on the page, from 0", "theme_id": "The theme"},
    ),
    "paywall_phrases": (
        "The paywall's phrases (« Article réservé aux abonnés », ...), each once; the view paywall_markers gives "
        "each article's.",
        "phrase",
        {"id": "Row id", "phrase": "The phrase"},
    ),
    "article_paywall_phrases": (
        "The visible paywall phrases of each article, in page order (the view paywall_markers spells them out).",
        None,
        {"article_id": "The article", "position": "Order on the page, from 0", "phrase_id": "The phrase"},
    ),
    "links": (
        "Links to other articles as pages show them (« Sur le même sujet », « L'actu … »): each heading, title, "
        "URL and teaser once, however many pages show it; the view related_links gives each article's.",
        "title",
        {"id": "Row id", "section": "The heading the link is listed under", "title": "Linked article's title",
         "url": "Linked article's URL", "teaser": "Linked article's teaser"},
    ),
    "article_links": (
        "The related links each article shows, in page order (the view related_links spells them out).",
        None,
        {"article_id": "The article", "position": "Order on the page, from 0", "link_id": "The link"},
    ),
    "related_links": (
        "View: the links to other articles shown with each article (« Sur le même sujet », « L'actu … »), in "
        "page order: article_links with their links.",
        None,
        {"article_id": "The article", "position": "Order on the page, from 0",
         "section": "The heading the link is listed under", "title": "Linked article's title",
         "url": "Linked article's URL", "teaser": "Linked article's teaser"},
    ),
    "paywall_markers": (
        "View: the visible paywall phrases of each article, in page order.",
        None,
        {"article_id": "The article", "position": "Order on the page, from 0", "marker": "The phrase"},
    ),
    "comments": (
        "Readers' comments, in page order.",
        None,
        {"article_id": "The article", "position": "Order on the page, from 0", "author": "Pseudonym",
         "posted_at": "When it was posted", "text": "Text",
         "in_reply_to": "Position of the comment it answers, if any"},
    ),
    "article_versions": (
        "History: one row each time an article's content changed, with how to get the previous values back "
        "(`scrape history ARTICLE` shows every version, word by word).",
        None,
        {"id": "Row id", "article_id": "The article", "recorded_at": "When the change was seen",
         "changed_fields": "JSON list of the fields that changed",
         "previous": "JSON object of those fields' values before the change (rows written before schema 4)",
         "diff": "JSON object: for each changed field, the words or items that changed, else its previous value"},
    ),
    "fetches": (
        "Every request and its outcome. Raw bodies are in `bodies`, by SHA-256; the headers are shared with other "
        "fetches in `header_sets` (the view fetch_details gives each fetch with its headers whole).",
        "url",
        _FETCH_COLUMNS | {
            "header_set_id": "The response headers it shares with other fetches (header_sets)",
            "header_values": "Its own response header values (date, ETag, length…), in place of the nulls of its"
                             " header set (JSON)",
            "request_header_set_id": "The request headers it shares with other fetches (header_sets)",
            "request_header_values": "Its own request header values (If-None-Match…), by position in its header"
                                     " set (JSON)",
        },
    ),
    "fetch_details": (
        "View: every fetch with its response and request headers whole (fetches with their header sets).",
        None,
        _FETCH_COLUMNS | {
            "headers": "Response headers (JSON)",
            "request_headers": "Request headers as sent (JSON pairs), never the Cookie or credentials",
        },
    ),
    "header_sets": (
        "The headers fetches share, each set once: a JSON object of response headers, or JSON pairs of request "
        "headers, with null where each fetch has its own value (fetches.header_values, request_header_values).",
        None,
        {"id": "Row id", "names_hash": "Hash of the header names, by which a fetch finds its set",
         "headers": "The headers (JSON), null where each fetch has its own value"},
    ),
    "bodies": (
        "Raw page bodies as fetched, compressed with zstd and a dictionary trained on the archive's own pages, "
        "deduplicated by SHA-256.",
        None,
        {"sha256": "SHA-256 of the raw bytes", "size": "Size in bytes", "compressed": "The compressed bytes",
         "compression": "Codec: zstd (zlib for bodies stored before schema 4, until `scrape compact`)",
         "dictionary_id": "The zstd dictionary (none: plain zstd)"},
    ),
    "dictionaries": (
        "Zstandard dictionaries trained on the archive's pages, which the raw bodies are compressed with.",
        None,
        {"id": "Row id", "trained_at": "When (UTC)", "bytes": "The dictionary",
         "samples": "How many pages it was trained on"},
    ),
    "runs": (
        "One row per command run, with its counts.",
        "command",
        {"id": "Row id", "command": "The command", "started_at": "Start (UTC)", "ended_at": "End (UTC)",
         **RUN_COUNTS},
    ),
    "crawl_queue": (
        "What a crawl still has to fetch, so an interrupted crawl resumes.",
        "url",
        {"url": "URL to fetch", "kind": "article, dossier, listing or feed", "parent_url": "The crawl's root URL",
         "crawl_kind": "The command that queued it (dossier, listing or feed): with the root, the crawl it belongs to",
         "state": "pending, done or failed", "attempts": "Attempts so far",
         "last_error_class": "Why the last attempt failed: its error class (as fetches.error_class)",
         "last_error": "The last failure's message",
         "added_at": "When it was queued", "updated_at": "Last change"},
    ),
    "article_details": (
        "View: articles with their authors and dossier, one row each.",
        None,
        {"authors": "Authors, joined by « ; »", "dossier_title": "The dossier's title",
         "dossier_url": "The dossier's URL"},
    ),
    "article_records": (
        "View: each article's whole JSON record (what `scrape parse` prints and `scrape export` writes), rebuilt "
        "from its columns and child rows.",
        None,
        {"record": "The article's record, as JSON"},
    ),
    "dossier_contents": (
        "View: every dossier's table of contents, with whether each article is archived.",
        None,
        {"archived": "1 when the article is in the archive"},
    ),
    "fetch_errors": ("View: the failed requests, newest first.", None, {}),
}
