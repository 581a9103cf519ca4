"""The views of one calendar: built anew in the executor, else updated in place."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .google.entries import OnSkip
from .google.event_views import CalendarViews
from .google.model import Event
from .google.recurrence import Series
from .google.sync import CalendarSnapshot

# A sync that changes more events than this is indexed anew in the executor;
# fewer are placed in the published views on the loop (tens of microseconds each).
REBUILD_ABOVE = 100


def _build_warm_views(
    events: list[Event],
    time_zone: str,
    now: datetime,
    on_skip: OnSkip,
    reuse: Mapping[str, Series] | None,
) -> CalendarViews:
    """Index events and expand the months around now; runs in the executor."""
    views = CalendarViews.build(
        events, default_time_zone=time_zone, on_skip=on_skip, reuse=reuse
    )
    views.warm(now)
    return views


class ViewKeeper:
    """Give a calendar's coordinator views that match its snapshot.

    Indexing 20,000 events and expanding their series takes a few hundred
    milliseconds, so a full build runs in the executor on a copy of the events
    while the loop goes on changing the snapshot; the ids it changes meanwhile
    are applied to the build before it is published. Small changes update the
    published views in place.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: ConfigEntry,
        name: str,
        *,
        snapshot: Callable[[], CalendarSnapshot],
        published: Callable[[], CalendarViews | None],
        time_zone: Callable[[], str],
        on_skip: OnSkip,
    ) -> None:
        """Keep the views of the snapshot; published are the coordinator's."""
        self._hass = hass
        self._config_entry = config_entry
        self._name = name
        self._snapshot = snapshot
        self._published = published
        self._time_zone = time_zone
        self._on_skip = on_skip
        # The views need a full build: none yet, or a sync changed more than
        # REBUILD_ABOVE events.
        self._rebuild = True
        # Full builds in flight, each with the ids changed since it copied the
        # snapshot: applied to it before it is published.
        self._builds: list[set[str]] = []
        # The newest full build and how many were started: only the newest
        # build's views are published.
        self._build: asyncio.Task[CalendarViews] | None = None
        self._generation = 0
        # The newest build's views from the moment it ends until the coordinator
        # publishes them: the caller resumes a loop turn later, and a write
        # landing meanwhile must reach them too.
        self._unpublished: CalendarViews | None = None

    @callback
    def async_synced(self, ids: Collection[str]) -> None:
        """Take the events a sync changed: in place, or by a build if many."""
        if len(ids) > REBUILD_ABOVE:
            self._rebuild = True
        else:
            self.async_apply(ids)

    @callback
    def async_apply(self, ids: Iterable[str]) -> None:
        """Update the views in place for events changed in the snapshot."""
        ids = set(ids)
        for changed in self._builds:
            changed.update(ids)
        events = self._snapshot().events
        published = self._published()
        if published is not None:
            published.apply(events, ids)
        if self._unpublished is published:
            self._unpublished = None
        elif self._unpublished is not None:
            self._unpublished.apply(events, ids)

    async def async_views(self) -> CalendarViews:
        """Return the views, built in the executor when they need a full build.

        Two syncs in quick succession may each start a build: the newest one is
        returned to both callers, whichever build finishes first. Without a
        build to do, the newest build's views are returned: changes since were
        applied to them in place, published or not.
        """
        if self._rebuild or self._build is None:
            self._rebuild = False
            self._generation += 1
            self._build = self._config_entry.async_create_background_task(
                self._hass, self._async_build(self._generation), f"{self._name} index"
            )
        while True:
            build = self._build
            try:
                views = await asyncio.shield(build)
            except Exception:
                if build is self._build:
                    raise
                continue
            if build is self._build:
                return views

    async def _async_build(self, generation: int) -> CalendarViews:
        """Index the snapshot in the executor; apply the changes made meanwhile.

        The executor works on a copy of the events: the loop changes the
        snapshot meanwhile. It reuses the published series, which never make the
        loop wait (see Series.overlapping). Only the newest build (generation)
        failing calls for another.
        """
        changed: set[str] = set()
        self._builds.append(changed)
        published = self._published()
        try:
            views = await self._hass.async_add_executor_job(
                _build_warm_views,
                list(self._snapshot().events.values()),
                self._time_zone(),
                dt_util.utcnow(),
                self._on_skip,
                published.series if published is not None else None,
            )
        except BaseException:
            if generation == self._generation:
                self._rebuild = True
            raise
        finally:
            self._builds.remove(changed)
        views.apply(self._snapshot().events, changed)
        if generation == self._generation:
            self._unpublished = views
        return views
