"""The default cache through one backend instance per process, for code that runs inside websockets.

``django.core.cache.cache`` gives every async context its own backend instance, and closes them when an
HTTP request finishes. A websocket's context lasts as long as the socket and no request finishes, so
with Redis every watcher would keep a connection pool (and a Redis connection) of its own: 10,000
watchers, 10,000 connections, and Redis refuses the rest ("max number of clients reached"). The
backends Townhall uses (Redis, local memory) are safe to share between threads, so the live layer
shares one.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches

_lock = threading.Lock()
_instance: tuple[str, Any] | None = None


def _backend() -> Any:
    global _instance
    # Keyed by the configuration, so a test that changes CACHES gets a backend for the new one.
    config = repr(settings.CACHES.get(DEFAULT_CACHE_ALIAS))
    current = _instance
    if current is None or current[0] != config:
        with _lock:
            current = _instance
            if current is None or current[0] != config:
                current = _instance = (config, caches.create_connection(DEFAULT_CACHE_ALIAS))
    return current[1]


class _SharedCache:
    """Reads and writes go to the process's one backend instance (``cache.get``, ``cache.add`` ...)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_backend(), name)


cache = _SharedCache()
