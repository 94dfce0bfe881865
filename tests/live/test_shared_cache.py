"""The live layer's cache is one backend per process, whatever the number of sockets (voting.shared_cache)."""

from __future__ import annotations

import asyncio
import threading

from asgiref.sync import sync_to_async
from django.core.cache import caches

from voting import shared_cache


async def test_every_socket_context_and_thread_shares_one_cache_backend():
    async def in_a_socket_context():
        # Each task is a context of its own, as each websocket consumer is.
        return shared_cache._backend("default")

    results = await asyncio.gather(*(asyncio.create_task(in_a_socket_context()) for _ in range(5)))
    from_thread = await sync_to_async(shared_cache._backend, thread_sensitive=False)("default")
    assert len({id(backend) for backend in [*results, from_thread]}) == 1


def test_the_shared_backend_reads_what_the_default_cache_wrote():
    caches["default"].set("th:test:shared", 42)
    assert shared_cache.cache.get("th:test:shared") == 42
    shared_cache.cache.set("th:test:shared", 43)
    assert caches["default"].get("th:test:shared") == 43


def test_threads_starting_at_once_get_the_same_backend(monkeypatch):
    monkeypatch.setattr(shared_cache, "_instances", {})
    seen, start = [], threading.Barrier(8)

    def grab():
        start.wait()
        seen.append(id(shared_cache._backend("default")))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1


def test_the_live_cache_is_the_default_one_unless_configured_apart(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert shared_cache._backend("live") is shared_cache._backend("default")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "a"},
        "live": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "b"},
    }
    assert shared_cache._backend("live") is not shared_cache._backend("default")
