"""When a run stops asking a host: it refused access (a bot protection, robots.txt included), or it asked to
be left alone longer than the user allows (a Retry-After over --max-wait).

A host is closed for the rest of the run when its robots.txt is refused, when the first page asked of it is
refused, or after REFUSALS_IN_A_ROW refused pages in a row (a page that comes through resets the count). The
pages not asked then stay to do: a crawl leaves them in its queue, a URL list names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scraper.refusal import Refusal

REFUSALS_IN_A_ROW = 3


@dataclass(frozen=True)
class Stop:
    """Why a host is asked for nothing more in this run: `reason` as the fetch log says it, `refusals` seen."""

    host: str
    reason: str
    refusals: int
    blocked: bool = True  # False: the host asked for a longer wait than allowed (Retry-After)

    @property
    def message(self) -> str:
        if not self.blocked:
            return f"{self.host} {self.reason}: stopped asking it for this run"
        count = "1 refusal" if self.refusals == 1 else f"{self.refusals} refusals"
        return f"{self.host} refused access ({self.reason}): stopped after {count}"


REFUSAL_ADVICE = ('scrape does not get around such protection: save the pages in your browser and run'
                  ' "scrape import FILE" (see README, "When the site refuses scrape")')


def stop_summary(stop: Stop, archived: int, not_asked: int) -> str:
    """The one message a run ends with when it stopped asking a host: what happened, what was archived, what
    is left for the next run, and what to do."""
    counts = f"{archived} page{'s' if archived != 1 else ''} archived, {not_asked} not asked"
    advice = REFUSAL_ADVICE if stop.blocked else "run the same command again later for the rest"
    return f"{stop.message}; {counts}. {advice}"


class HostStops:
    """The hosts a run has stopped asking, and the refusals in a row of the others."""

    def __init__(self, on_stop: Callable[[str], None] = lambda host: None) -> None:
        self._on_stop = on_stop
        self._in_a_row: dict[str, int] = {}
        self._came_through: dict[str, int] = {}  # pages of each host answered (robots.txt aside)
        self._before: dict[str, int] = {}  # refusals in a row before the last page that came through
        self._stops: dict[str, Stop] = {}

    def stop_for(self, host: str) -> Stop | None:
        return self._stops.get(host)

    def stops(self) -> list[Stop]:
        return list(self._stops.values())

    def came_through(self, host: str) -> None:
        """A page of `host` was answered: refusals in a row start again from zero."""
        self._came_through[host] = self._came_through.get(host, 0) + 1
        self._before[host] = self._in_a_row.get(host, 0)
        self._in_a_row[host] = 0

    def refused(self, host: str, refusal: Refusal, *, robots: bool = False, once_read: bool = False) -> None:
        """A page (or the robots.txt) of `host` was refused: close the host when it is time. `once_read`: the
        page had come through, and reading it showed a refusal (an interstitial served with 200): that is
        taken back."""
        if once_read:
            self._came_through[host] = self._came_through.get(host, 1) - 1
            self._in_a_row[host] = self._before.get(host, 0)
        count = self._in_a_row.get(host, 0) + 1
        self._in_a_row[host] = count
        first = not robots and not self._came_through.get(host)
        if robots or first or count >= REFUSALS_IN_A_ROW:
            self._stop(Stop(host, refusal.message, count))

    def wait_refused(self, host: str, asked: float, allowed: float) -> None:
        """`host` asked for `asked` seconds of quiet (Retry-After), more than the `allowed` wait."""
        reason = f"asked to wait {asked:g} s (Retry-After), more than --max-wait {allowed:g} s"
        self._stop(Stop(host, reason, 0, blocked=False))

    def _stop(self, stop: Stop) -> None:
        if stop.host not in self._stops:
            self._stops[stop.host] = stop
            self._on_stop(stop.host)
