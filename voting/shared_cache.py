"""The default cache through one backend instance per process, for code that runs inside websockets.

``django.core.cache.cache`` gives every async context its own backend instance, and closes them when an
HTTP request finishes. A websocket's context lasts as long as the socket and no request finishes, so
with Redis every watcher would keep a connection pool (and a Redis connection) of its own: 10,000
watchers, 10,000 connections, and Redis refuses the rest ("max number of clients reached"). The
backends Townhall uses (Redis, local memory) are safe to share between threads, so the live layer
shares one.

With Redis there are two: ``cache`` forgives an unreachable Redis (a computed tally is computed
again), ``live_cache`` does not (a sequence counter or a lock that silently did nothing would be
wrong; ``voting.broadcast`` catches the error and reads the database).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches

_lock = threading.Lock()
_instances: dict[str, tuple[str, Any]] = {}

#: The alias of the cache whose errors must reach the caller (see ``config/settings/base.py``).
LIVE_ALIAS = "live"


def _backend(alias: str) -> Any:
    if alias not in settings.CACHES:
        alias = DEFAULT_CACHE_ALIAS  # one cache for everything (local memory, in development)
    # Keyed by the configuration, so a test that changes CACHES gets a backend for the new one.
    config = repr(settings.CACHES.get(alias))
    current = _instances.get(alias)
    if current is None or current[0] != config:
        with _lock:
            current = _instances.get(alias)
            if current is None or current[0] != config:
                current = _instances[alias] = (config, caches.create_connection(alias))
    return current[1]


class _SharedCache:
    """Reads and writes go to the process's one backend instance (``cache.get``, ``cache.add`` ...)."""

    def __init__(self, alias: str):
        self.alias = alias

    def __getattr__(self, name: str) -> Any:
        return getattr(_backend(self.alias), name)


#: For values that can be computed again: an unreachable cache reads as empty.
cache = _SharedCache(DEFAULT_CACHE_ALIAS)
#: For the broadcaster's counters and locks: an unreachable cache raises, and the caller falls back
#: to the database.
live_cache = _SharedCache(LIVE_ALIAS)
