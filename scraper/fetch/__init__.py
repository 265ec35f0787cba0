"""The HTTP side: one polite, resilient client per run. Faults are values: `Fetcher.fetch()` returns a
FetchResult whose `error_class` names what went wrong, and never raises for the network.

    policy      FetchPolicy (every setting maps to a command-line option) and the User-Agent
    client      Fetcher: requests, cookies, redirects, retries, one exchange
    lanes       the connections: one transport per request in flight to an origin, HTTP/2 shared
    wire        a lean lane's HTTP/1.1 transport: one keep-alive connection on asyncio, h11 framing
    gate        per-host politeness (concurrency, delay between request starts)
    robots      robots.txt, per origin, with its Crawl-delay
    stops       the hosts a run stops asking: refusals (bot protection), a Retry-After over --max-wait
    retry       what is retried, and the backoff
    decoders    reading a body under a size cap, Content-Encoding undone a chunk at a time
    response    one answer and what it means for the FetchResult
    cookies     a subscriber's Netscape cookies.txt
    sockets     httpcore's network streams with a cheap check of an idle connection
"""

from scraper.fetch.client import Fetcher
from scraper.fetch.policy import FetchPolicy, default_user_agent, url_problem, with_contact
from scraper.fetch.stops import Stop, stop_summary

__all__ = ["FetchPolicy", "Fetcher", "Stop", "default_user_agent", "stop_summary", "url_problem", "with_contact"]
