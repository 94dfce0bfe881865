"""The broadcaster: sequence numbers, epochs, and coalescing a burst of ballots into a few broadcasts."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from voting import broadcast, fanout
from voting.shared_cache import live_cache as cache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_state(monkeypatch):
    """A question whose state the test controls, instead of the database."""
    state = {"open": True, "version": 0, "tally": {"n": 0}}
    monkeypatch.setattr(broadcast, "state_reader", lambda question_id: dict(state))
    return state


class Sent(list):
    """Payloads the broadcaster sent, and an event set on each."""

    def __init__(self):
        super().__init__()
        self.arrived = asyncio.Event()


@pytest.fixture
def sent(monkeypatch):
    payloads = Sent()

    async def capture(payload):
        payloads.append(payload)
        payloads.arrived.set()

    monkeypatch.setattr(broadcast, "send_tally", capture)
    return payloads


def test_refresh_numbers_changes_and_keeps_the_number_when_nothing_changed(fake_state):
    first, changed, *_ = broadcast.refresh(7)
    assert changed and first["seq"] == 1 and first["epoch"]
    again, changed, *_ = broadcast.refresh(7)
    assert not changed and again["seq"] == 1
    fake_state.update(version=1, tally={"n": 1})
    second, changed, *_ = broadcast.refresh(7)
    assert changed and second["seq"] == 2 and second["epoch"] == first["epoch"]
    assert broadcast.current_seq(7) == 2


def test_questions_are_numbered_independently(fake_state):
    assert broadcast.refresh(1).payload["seq"] == 1
    assert broadcast.refresh(2).payload["seq"] == 1


def test_a_lost_counter_starts_a_new_epoch(fake_state):
    first = broadcast.refresh(7).payload
    cache.clear()  # Redis restarted
    fake_state.update(version=1, tally={"n": 1})
    second, changed, *_ = broadcast.refresh(7)
    assert changed and second["seq"] == 1 and second["epoch"] != first["epoch"]


def test_a_fresh_cached_payload_is_served_without_reading_the_database(fake_state, monkeypatch):
    broadcast.refresh(7)
    monkeypatch.setattr(broadcast, "state_reader", lambda question_id: pytest.fail("read the database"))
    payload, changed, busy, again = broadcast.refresh(7, max_age=60)
    assert payload["seq"] == 1 and not changed and not busy and not again


def test_a_busy_lock_returns_the_last_payload_and_says_so(fake_state):
    broadcast.refresh(7)
    cache.add(broadcast._key(7, "lock"), "another worker", timeout=5)
    fake_state.update(version=1, tally={"n": 1})
    payload, changed, busy, again = broadcast.refresh(7, wait=0.05)
    assert payload["seq"] == 1 and not changed and busy and not again


async def test_a_lock_left_by_a_dead_worker_delays_the_broadcast_but_does_not_lose_it(fake_state, sent):
    """A worker killed mid-flush leaves the question's lock until it expires. A ballot committed
    meanwhile on another worker is broadcast once the lock has gone, not dropped."""
    broadcaster = broadcast.Broadcaster(interval=0.05)
    cache.add(broadcast._key(7, "lock"), "a worker that died", timeout=2)
    fake_state.update(version=1, tally={"n": 1})
    started = time.monotonic()
    broadcaster.mark(7)
    try:
        await asyncio.wait_for(sent.arrived.wait(), timeout=5)
        assert time.monotonic() - started >= 1.9  # not before the lock expired
        assert len(sent) == 1 and sent[0]["tally"] == {"n": 1}
    finally:
        await broadcaster.shutdown()


async def test_no_new_broadcast_while_this_worker_still_writes_the_last_one(fake_state, sent, monkeypatch):
    """With thousands of watchers a worker takes longer than the interval to write one tally; the next
    waits for it, so frames do not pile up behind each other (the ballot is broadcast, only later)."""
    writing = {7}
    monkeypatch.setattr(fanout, "delivering", lambda question_id: question_id in writing)
    broadcaster = broadcast.Broadcaster(interval=0.01)
    fake_state.update(version=1, tally={"n": 1})
    broadcaster.mark(7)
    try:
        await asyncio.sleep(0.2)
        assert len(sent) == 0
        writing.clear()
        await asyncio.wait_for(sent.arrived.wait(), timeout=2)
        assert len(sent) == 1 and sent[0]["tally"] == {"n": 1}
    finally:
        await broadcaster.shutdown()


def _ballot_during_the_flush(monkeypatch, fake_state, when_read: int, then) -> list[int]:
    """Make the ``when_read``-th database read of a flush return what it read, but let a ballot commit
    (the tally moves on) and ``then()`` run just after it, as if in another thread; returns a counter."""
    reads = [0]

    def reader(question_id):
        reads[0] += 1
        state = dict(fake_state)
        if reads[0] == when_read:
            fake_state.update(version=1, tally={"n": 1})
            then()
        return state

    monkeypatch.setattr(broadcast, "state_reader", reader)
    return reads


def test_a_ballot_committed_while_another_thread_flushes_is_sent_by_that_thread(
    fake_state, sent, monkeypatch
):
    """Without an event loop (a script, a plain test) a ballot broadcasts itself; if another thread or
    process holds the question's lock, it leaves a mark and returns at once instead of waiting, and the
    holder, seeing the mark after releasing the lock, flushes once more: the ballot is not lost."""
    left = []

    def another_ballots_broadcast():
        broadcast.broadcaster.tally_changed(7)  # finds the lock taken
        left.append(list(sent))

    # The flush's second read is the one after it took its seq: the ballot is not in it.
    _ballot_during_the_flush(monkeypatch, fake_state, 2, another_ballots_broadcast)
    broadcast.broadcaster.tally_changed(7)

    assert left == [[]]  # the other caller sent nothing and did not wait for the lock
    assert [(p["seq"], p["tally"]) for p in sent] == [(1, {"n": 0}), (2, {"n": 1})]
    assert not cache.get(broadcast._key(7, "pending"))


def test_a_flush_with_no_one_asking_meanwhile_does_not_repeat(fake_state, sent):
    broadcast.broadcaster.tally_changed(7)
    fake_state.update(version=1, tally={"n": 1})
    broadcast.broadcaster.tally_changed(7)
    assert [p["seq"] for p in sent] == [1, 2]
    assert broadcast.refresh(7).again is False


async def test_a_worker_asked_to_flush_again_while_it_flushed_does_so(fake_state, sent, monkeypatch):
    """A script's ballot that finds a worker flushing leaves its mark; the worker broadcasts again."""
    broadcaster = broadcast.Broadcaster(interval=0.01)

    def a_scripts_ballot():
        cache.set(broadcast._key(7, "pending"), 1)

    _ballot_during_the_flush(monkeypatch, fake_state, 2, a_scripts_ballot)
    try:
        await broadcaster.flush_now(7)
        assert [p["tally"] for p in sent] == [{"n": 0}]
        while len(sent) < 2:
            sent.arrived.clear()
            await asyncio.wait_for(sent.arrived.wait(), timeout=2)
        assert [(p["seq"], p["tally"]) for p in sent] == [(1, {"n": 0}), (2, {"n": 1})]
    finally:
        await broadcaster.shutdown()


def test_status_change_is_flagged_for_the_public(fake_state):
    broadcast.refresh(7)
    fake_state.update(open=False, version=1)
    payload, changed, *_ = broadcast.refresh(7)
    assert changed and payload["status_changed"]


async def test_a_burst_of_ten_thousand_ballots_costs_a_few_broadcasts(fake_state, sent):
    """Four threads commit 10,000 ballots as fast as they can; watchers get a handful of broadcasts,
    and the last one carries the final tally."""
    loop = asyncio.get_running_loop()
    broadcaster = broadcast.Broadcaster(interval=0.1)
    lock = threading.Lock()

    def commit_many(n):
        for _ in range(n):
            with lock:
                fake_state["version"] += 1
                fake_state["tally"] = {"n": fake_state["version"]}
            loop.call_soon_threadsafe(broadcaster.mark, 7)

    started = time.monotonic()
    threads = [threading.Thread(target=commit_many, args=(2500,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    await asyncio.to_thread(lambda: [t.join() for t in threads])
    while not sent or sent[-1]["version"] != 10_000:
        sent.arrived.clear()
        await asyncio.wait_for(sent.arrived.wait(), timeout=5)
    elapsed = time.monotonic() - started
    try:
        assert sent[-1]["tally"] == {"n": 10_000}
        assert len(sent) <= elapsed / broadcaster.interval + 2, (len(sent), elapsed)
        assert len(sent) < 100
        assert [p["seq"] for p in sent] == list(range(sent[0]["seq"], sent[0]["seq"] + len(sent)))
        versions = [p["version"] for p in sent]
        assert versions == sorted(versions)
    finally:
        await broadcaster.shutdown()


async def test_quiet_question_is_broadcast_at_once(fake_state, sent):
    """The first ballot after a quiet spell goes out without waiting for the coalescing interval."""
    broadcaster = broadcast.Broadcaster(interval=10.0)
    broadcaster.mark(3)
    await asyncio.wait_for(sent.arrived.wait(), timeout=2)
    assert len(sent) == 1
    await broadcaster.shutdown()


def test_an_unreachable_cache_still_gives_the_database_state(fake_state, monkeypatch):
    """Redis down: a snapshot still shows the database's numbers, under an epoch of its own."""

    def down(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(broadcast.cache, "get", down)
    monkeypatch.setattr(broadcast.cache, "add", down)
    fake_state.update(version=5, tally={"n": 5})
    payload, changed, *_ = broadcast.refresh(7)
    assert payload["tally"] == {"n": 5} and payload["epoch"] == "direct" and not changed
