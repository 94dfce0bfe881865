"""The tally fan-out hub: one channel-layer subscription per worker, whatever the number of watchers."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer

from tests import factories
from tests.live.test_consumers import _open_question, counts
from voting import broadcast, fanout, protocol
from voting.consumers import LiveConsumerBase

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def question(live_db):
    return _open_question()


@pytest.fixture
def in_memory_layer():
    """The in-memory layer, whose group memberships a test can count (whatever REDIS_URL says)."""
    layer = InMemoryChannelLayer()
    channel_layers.set("default", layer)
    return layer


async def receive(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


async def watchers(sockets, question, n):
    """``n`` watchers of ``question``, each past its snapshot; returns them and the snapshot payload."""
    opened, snapshot = [], None
    for _ in range(n):
        socket = await sockets(f"/ws/questions/{question.pk}/")
        assert socket.accepted
        message = await receive(socket)
        assert message["type"] == protocol.SNAPSHOT
        opened.append(socket)
        snapshot = message["payload"]
    return opened, snapshot


def members(layer, group: str) -> set[str]:
    return set(layer.groups.get(group, {}))


def later(payload: dict, seq: int, **changes) -> dict:
    """The payload the broadcaster would send as update ``seq``."""
    return {**payload, "seq": seq, "status_changed": False, **changes}


async def test_one_group_membership_per_worker_not_per_watcher(sockets, question, in_memory_layer):
    opened, snapshot = await watchers(sockets, question, 5)
    layer = in_memory_layer
    hub = fanout.hub(layer)
    assert members(layer, protocol.tally_group(question.pk)) == {hub.channel}
    assert members(layer, protocol.status_group(question.pk)) == {hub.channel}
    assert hub.watcher_count(question.pk) == 5

    await broadcast.send_tally(later(snapshot, snapshot["seq"] + 1))
    for socket in opened:
        update = await receive(socket)
        assert update["type"] == protocol.TALLY and update["payload"]["seq"] == snapshot["seq"] + 1


async def test_a_ballot_reaches_every_watcher_through_the_hub(sockets, question):
    from voting.services import ballot_cast

    opened, _ = await watchers(sockets, question, 3)
    voter = await sync_to_async(factories.ResidentFactory)()
    await sync_to_async(ballot_cast)(question=question, voter=voter, data={"choice": "yes"})
    for socket in opened:
        update = await receive(socket)
        assert update["type"] == protocol.TALLY and counts(update["payload"])["yes"] == 1


async def test_the_last_watcher_leaving_discards_the_groups(sockets, question, in_memory_layer):
    (first, second), _ = await watchers(sockets, question, 2)
    layer = in_memory_layer
    hub = fanout.hub(layer)
    await first.disconnect(timeout=2)
    assert members(layer, protocol.tally_group(question.pk)) == {hub.channel}
    assert hub.watcher_count(question.pk) == 1
    await second.disconnect(timeout=2)
    assert members(layer, protocol.tally_group(question.pk)) == set()
    assert members(layer, protocol.status_group(question.pk)) == set()
    assert question.pk not in hub.questions


async def test_a_closed_socket_does_not_stop_delivery_to_the_others(sockets, question):
    opened, snapshot = await watchers(sockets, question, 3)
    hub = fanout.hub(get_channel_layer())
    # The first socket to register is served first: a failure there must not stop the others.
    broken = next(iter(hub.questions[question.pk].members))

    async def closed_under_us(message):
        raise ConnectionResetError("the client went away")

    broken.frame_send = closed_under_us
    await broadcast.send_tally(later(snapshot, snapshot["seq"] + 1))
    for socket in opened[1:]:
        assert (await receive(socket))["payload"]["seq"] == snapshot["seq"] + 1
    assert await opened[0].receive_nothing(timeout=0.3)
    assert hub.counts["dropped"] == 1
    # The socket that failed is no longer served; the others still are.
    await broadcast.send_tally(later(snapshot, snapshot["seq"] + 2))
    for socket in opened[1:]:
        assert (await receive(socket))["payload"]["seq"] == snapshot["seq"] + 2
    assert hub.watcher_count(question.pk) == 2


async def test_an_older_update_arriving_late_is_not_delivered(sockets, question):
    (socket,), snapshot = await watchers(sockets, question, 1)
    seq = snapshot["seq"]
    await broadcast.send_tally(later(snapshot, seq + 2))
    await broadcast.send_tally(later(snapshot, seq + 1))  # from a slower worker
    await broadcast.send_tally(later(snapshot, seq + 2))  # the same one again
    await broadcast.send_tally(later(snapshot, seq + 3))
    assert (await receive(socket))["payload"]["seq"] == seq + 2
    assert (await receive(socket))["payload"]["seq"] == seq + 3
    # A new epoch (the counter was lost) starts again from 1 and is delivered.
    await broadcast.send_tally(later(snapshot, 1, epoch="fresh-epoch"))
    fresh = await receive(socket)
    assert fresh["payload"]["epoch"] == "fresh-epoch" and fresh["payload"]["seq"] == 1
    assert await socket.receive_nothing(timeout=0.2)


async def test_an_update_arriving_while_the_snapshot_is_read_follows_the_snapshot(
    sockets, question, monkeypatch
):
    """The hub holds an update for a socket whose snapshot is not out yet, then sends it after."""
    held = threading.Event()
    original_due = LiveConsumerBase.tally_due

    def tally_due(self, event):
        due = original_due(self, event)
        if self.held_tally is not None:
            held.set()
        return due

    monkeypatch.setattr(LiveConsumerBase, "tally_due", tally_due)
    original_refresh = broadcast.refresh
    newer = {}

    def refresh(question_id, **kwargs):
        result = original_refresh(question_id, **kwargs)
        payload = result.payload
        if not newer:
            # While this socket reads its snapshot, the next update goes out to everyone.
            newer.update(later(payload, payload["seq"] + 1))
            async_to_sync(broadcast.send_tally)(newer)
            assert held.wait(timeout=3)
        return result

    monkeypatch.setattr(broadcast, "refresh", refresh)
    socket = await sockets(f"/ws/questions/{question.pk}/")
    first, second = await receive(socket), await receive(socket)
    assert first["type"] == protocol.SNAPSHOT and first["payload"]["seq"] == newer["seq"] - 1
    assert second["type"] == protocol.TALLY and second["payload"]["seq"] == newer["seq"]


async def test_hidden_results_watchers_share_the_subscription_and_get_no_numbers(
    sockets, live_db, in_memory_layer
):
    hidden = await sync_to_async(_open_question)(hide_results=True)
    public = await sockets(f"/ws/questions/{hidden.pk}/")
    snapshot = await receive(public)
    assert snapshot["payload"]["hidden"] is True
    layer = in_memory_layer
    assert members(layer, protocol.tally_group(hidden.pk)) == {fanout.hub(layer).channel}
    await broadcast.send_tally(
        {"question": hidden.pk, "epoch": "e", "seq": 99, "version": 1, "open": True, "tally": {}}
    )
    assert await public.receive_nothing(timeout=0.3)


class FlakyLayer:
    """An in-memory layer that can go down as Redis does when it restarts: the hub's receive raises,
    everything sent meanwhile is lost, and the group memberships are gone when it comes back."""

    def __init__(self):
        self.inner = InMemoryChannelLayer()
        self.is_down = False
        self.went_down = asyncio.Event()
        self.watched_channel: str | None = None  # the hub's channel: only its receive fails
        self.group_adds: list[str] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _check(self):
        if self.is_down:
            raise ConnectionError("Redis is restarting")

    def down(self, hub_channel: str) -> None:
        self.watched_channel = hub_channel
        self.is_down = True
        self.inner.groups.clear()
        self.went_down.set()

    def up(self) -> None:
        self.is_down = False
        self.went_down.clear()

    async def receive(self, channel):
        if channel != self.watched_channel:
            return await self.inner.receive(channel)
        self._check()
        get = asyncio.ensure_future(self.inner.receive(channel))
        down = asyncio.ensure_future(self.went_down.wait())
        done, _ = await asyncio.wait({get, down}, return_when=asyncio.FIRST_COMPLETED)
        if get in done:
            down.cancel()
            return get.result()
        get.cancel()
        raise ConnectionError("Connection closed by server")

    async def send(self, channel, message):
        self._check()
        await self.inner.send(channel, message)

    async def group_send(self, group, message):
        self._check()
        await self.inner.group_send(group, message)

    async def group_add(self, group, channel):
        self._check()
        self.group_adds.append(group)
        await self.inner.group_add(group, channel)

    async def group_discard(self, group, channel):
        self._check()
        await self.inner.group_discard(group, channel)


async def test_the_hub_recovers_after_the_layer_fails_and_pushes_a_fresh_tally(sockets, question):
    """Redis restarts while a ballot is cast: its broadcast is lost and so are the hub's groups. Once
    the layer is back the hub re-joins and every watcher gets the database's tally within 2 s."""
    from voting.services import ballot_cast

    layer = FlakyLayer()
    channel_layers.set("default", layer)
    opened, snapshot = await watchers(sockets, question, 2)
    hub = fanout.hub(layer)
    assert counts(snapshot)["yes"] == 0

    layer.down(hub.channel)
    voter = await sync_to_async(factories.ResidentFactory)()
    await sync_to_async(ballot_cast)(question=question, voter=voter, data={"choice": "yes"})
    for socket in opened:
        assert await socket.receive_nothing(timeout=0.3)  # the broadcast was lost with the layer
    assert hub.down_since is not None
    joins_before = len(layer.group_adds)

    layer.up()
    for socket in opened:
        update = await receive(socket, timeout=2)
        assert update["type"] == protocol.TALLY and counts(update["payload"])["yes"] == 1
    assert members(layer.inner, protocol.tally_group(question.pk)) == {hub.channel}
    assert members(layer.inner, protocol.status_group(question.pk)) == {hub.channel}
    assert len(layer.group_adds) > joins_before
    assert hub.counts["recoveries"] == 1 and hub.down_since is None

    # And it goes on delivering as before.
    await broadcast.send_tally(later(update["payload"], update["payload"]["seq"] + 1))
    for socket in opened:
        assert (await receive(socket))["payload"]["seq"] == update["payload"]["seq"] + 1


class SlowClient:
    """A watcher's send that waits, as uvicorn's does while that socket's write buffer is full."""

    def __init__(self, send):
        self.send, self.drained, self.started, self.frames = send, asyncio.Event(), 0, []

    async def __call__(self, message):
        self.started += 1
        await self.drained.wait()
        self.frames.append(json.loads(message["text"])["payload"]["seq"])


async def test_a_client_that_cannot_keep_up_does_not_hold_up_the_others(sockets, question):
    opened, snapshot = await watchers(sockets, question, 3)
    hub = fanout.hub(get_channel_layer())
    slow_watcher = next(iter(hub.questions[question.pk].members))  # served first
    slow = slow_watcher.frame_send = SlowClient(slow_watcher.frame_send)
    seq = snapshot["seq"]
    for step in (1, 2, 3):
        await broadcast.send_tally(later(snapshot, seq + step))
        for socket in opened[1:]:
            assert (await receive(socket))["payload"]["seq"] == seq + step
    # One send is waiting; the later updates were not queued behind it.
    assert slow.started == 1 and slow.frames == []
    slow.drained.set()
    for _ in range(100):
        if len(slow.frames) == 2:
            break
        await asyncio.sleep(0.01)
    # The frame it was writing, then only the newest: the one in between is of no use.
    assert slow.frames == [seq + 1, seq + 3]
    assert hub.counts["waits"] == 1 and hub.counts["skipped"] == 2 and hub.counts["dropped"] == 0
    assert not hub._waiting
    # Drained, it is served in place again.
    await broadcast.send_tally(later(snapshot, seq + 4))
    for socket in opened[1:]:
        assert (await receive(socket))["payload"]["seq"] == seq + 4
    assert slow.frames[-1] == seq + 4 and hub.counts["waits"] == 1


async def test_a_client_that_fails_while_its_send_waits_is_dropped(sockets, question):
    opened, snapshot = await watchers(sockets, question, 2)
    hub = fanout.hub(get_channel_layer())
    stuck = next(iter(hub.questions[question.pk].members))
    gone = asyncio.Event()

    async def lost_while_waiting(message):
        await gone.wait()
        raise ConnectionResetError("the phone went out of coverage")

    stuck.frame_send = lost_while_waiting
    await broadcast.send_tally(later(snapshot, snapshot["seq"] + 1))
    assert (await receive(opened[1]))["payload"]["seq"] == snapshot["seq"] + 1
    gone.set()
    for _ in range(100):
        if hub.watcher_count(question.pk) == 1:
            break
        await asyncio.sleep(0.01)
    assert hub.watcher_count(question.pk) == 1 and hub.counts["dropped"] == 1 and not hub._waiting


async def test_a_send_finished_in_a_task_behaves_as_if_awaited_from_the_start():
    """Results, exceptions and cancellation reach the send that was started in place."""
    loop = asyncio.get_running_loop()
    ready, cleaned = loop.create_future(), []

    async def send():
        try:
            return await ready + 1
        finally:
            cleaned.append(True)

    steps = fanout._steps(send())
    rest = fanout._Rest(steps, steps.send(None))
    task = asyncio.ensure_future(rest)
    ready.set_result(41)
    assert await task == 42 and cleaned == [True]

    blocked = loop.create_future()

    async def waits_for_ever():
        try:
            await blocked
        finally:
            cleaned.append("cancelled")

    steps = fanout._steps(waits_for_ever())
    task = asyncio.ensure_future(fanout._Rest(steps, steps.send(None)))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True, "cancelled"] and blocked.cancelled()


async def test_tally_frames_go_out_through_the_servers_own_send(sockets, question):
    """Not through Channels' session wrapper, which reads the session on every message it passes."""
    opened, snapshot = await watchers(sockets, question, 2)
    hub = fanout.hub(get_channel_layer())
    served = list(hub.questions[question.pk].members)
    # The communicator is the server here: its send is the output queue's put.
    assert {watcher.frame_send for watcher in served} == {socket.output_queue.put for socket in opened}
    assert all(watcher.frame_send != watcher.base_send for watcher in served)
    await broadcast.send_tally(later(snapshot, snapshot["seq"] + 1))
    for socket in opened:
        assert (await receive(socket))["payload"]["seq"] == snapshot["seq"] + 1


class RecordingWatcher:
    """A watcher that takes every frame at once and notes when it got it."""

    def __init__(self, log: list, hub=None):
        self.log, self.hub = log, hub

    async def frame_send(self, message):
        self.log.append(("frame", self))
        if self.hub is not None:
            # The broadcaster asks this while the tally is being written.
            self.log.append(("delivering", self.hub.delivering == {1}))

    def tally_due(self, event):
        return True

    def status_due(self, event):
        return False

    async def relay_status(self, event):
        pass


async def test_a_broadcast_to_thousands_lets_the_worker_take_other_work_between_slices(in_memory_layer):
    hub = fanout.FanoutHub(in_memory_layer)
    log: list = []
    audience = [RecordingWatcher(log) for _ in range(3 * fanout.YIELD_EVERY - 1)]
    audience.append(RecordingWatcher(log, hub))
    try:
        for watcher in audience:
            await hub.watch(watcher, 1)
        # A vote arriving while the broadcast is under way: it runs between slices, not after the last.
        asyncio.get_running_loop().call_soon(log.append, ("vote", None))
        await hub.deliver_tally({"type": protocol.EVENT_TALLY, "question": 1, "text": "{}"})
        frames = [who for what, who in log if what == "frame"]
        assert frames == audience  # every watcher, once, in order
        assert log.index(("vote", None)) == fanout.YIELD_EVERY - 1
        # The question counts as being delivered until the last watcher has its frame, then not.
        assert log[-1] == ("delivering", True) and not hub.delivering
    finally:
        await hub.close()


# Live-session and sign-out groups ----------------------------------------------------------------
@pytest.fixture
def meeting(live_db):
    from voting import live

    host = factories.CouncillorFactory()
    session = live.live_session_create(host=host, title="Full council")
    first = live.live_session_add_question(session=session, title="Motion one", kind="yes_no", options=[])
    second = live.live_session_add_question(session=session, title="Motion two", kind="yes_no", options=[])
    return session, first, second


async def until(communicator, type_, timeout=3):
    while (message := await receive(communicator, timeout))["type"] != type_:
        pass
    return message


async def attendees(sockets, session, n, cookies=()):
    opened = []
    for i in range(n):
        cookie = cookies[i] if i < len(cookies) else None
        socket = await sockets(f"/ws/live/{session.code}/", cookie=cookie)
        assert socket.accepted
        await until(socket, protocol.SNAPSHOT)
        opened.append(socket)
    return opened


async def test_live_sockets_open_no_channel_and_share_one_session_subscription(
    sockets, meeting, in_memory_layer
):
    from tests.live.conftest import session_cookie
    from voting import live

    session, first, _ = meeting
    residents = [await sync_to_async(factories.ResidentFactory)() for _ in range(2)]
    cookies = [await sync_to_async(session_cookie)(r) for r in residents]
    opened = await attendees(sockets, session, 4, cookies)
    hub = fanout.hub(in_memory_layer)

    # The only channel anyone receives on is the hub's: four sockets, one receive.
    assert set(in_memory_layer.channels) == {hub.channel}
    assert members(in_memory_layer, protocol.session_group(session.pk)) == {hub.channel}
    for cookie in cookies:  # the two signed-in sockets' sign-out groups
        assert members(in_memory_layer, protocol.auth_group(cookie)) == {hub.channel}

    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    for socket in opened:
        state = await until(socket, protocol.SESSION)
        assert state["payload"]["question"] == first.pk


async def test_the_last_socket_leaving_a_session_discards_the_hubs_membership(
    sockets, meeting, in_memory_layer
):
    session, _, _ = meeting
    opened = await attendees(sockets, session, 2)
    hub = fanout.hub(in_memory_layer)
    group = protocol.session_group(session.pk)

    await opened[0].disconnect()
    assert members(in_memory_layer, group) == {hub.channel}
    await opened[1].disconnect()
    assert members(in_memory_layer, group) == set()
    assert group not in hub.groups


async def test_an_event_for_another_group_reaches_nobody(sockets, meeting, in_memory_layer):
    session, _, _ = meeting
    (socket,) = await attendees(sockets, session, 1)
    hub = fanout.hub(in_memory_layer)
    # Sent to the hub's channel directly, naming a group it holds no sockets for.
    await in_memory_layer.send(
        hub.channel, {"type": protocol.EVENT_SIGNED_OUT, "group": protocol.auth_group("someone-else")}
    )
    await in_memory_layer.send(hub.channel, {"type": protocol.EVENT_SIGNED_OUT})  # no group at all
    assert await socket.receive_nothing(timeout=0.3)


async def test_after_the_layer_fails_sockets_catch_up_with_the_host_and_with_a_sign_out(
    sockets, meeting, monkeypatch
):
    """Redis restarts while the host moves on and while a resident signs out: both events are lost.
    Once the layer is back, the attendees are on the host's question and the signed-out socket is
    closed, within 2 s; no socket was closed for the layer failing."""
    from tests.live.conftest import signed_in_client
    from voting import live

    session, first, _ = meeting
    layer = FlakyLayer()
    channel_layers.set("default", layer)
    resident = await sync_to_async(factories.ResidentFactory)()
    client = await sync_to_async(signed_in_client)(resident)
    (visitor,) = await attendees(sockets, session, 1)
    (signed_in,) = await attendees(sockets, session, 1, [client.cookies["sessionid"].value])
    hub = fanout.hub(layer)

    layer.down(hub.channel)
    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    await sync_to_async(client.post)("/accounts/sign-out/")
    assert await visitor.receive_nothing(timeout=0.3)  # the announcement was lost with the layer
    assert await signed_in.receive_nothing(timeout=0.1)
    # A socket opening meanwhile is served from the database, not closed.
    late = await sockets(f"/ws/live/{session.code}/")
    assert late.accepted
    assert (await until(late, protocol.SESSION))["payload"]["question"] == first.pk

    from voting import consumers

    reads = []
    real_states = consumers.session_states.fetch
    monkeypatch.setattr(
        consumers.session_states, "fetch", lambda codes: reads.append(codes) or real_states(codes)
    )
    rounds = []  # the hub may need more than one recovery round; each tells every socket
    real_relay = hub.relay_event

    def relay_event(event):
        if event["type"] == fanout.EVENT_RECOVERED and event["group"] == protocol.session_group(session.pk):
            rounds.append(event)
        real_relay(event)

    monkeypatch.setattr(hub, "relay_event", relay_event)
    joins_before, joins_at_delivery = len(layer.group_adds), []
    real_deliver = hub.deliver_tally

    async def deliver_tally(event):
        joins_at_delivery.append(len(layer.group_adds))
        await real_deliver(event)

    monkeypatch.setattr(hub, "deliver_tally", deliver_tally)
    layer.up()
    state = await until(visitor, protocol.SESSION, timeout=2)
    assert state["payload"]["question"] == first.pk and state["payload"]["accepting"] is True
    while (output := await signed_in.receive_output(timeout=2))["type"] != "websocket.close":
        pass
    assert output["code"] == protocol.CLOSE_SIGNED_OUT
    assert members(layer.inner, protocol.session_group(session.pk)) == {hub.channel}
    await late.send_json_to({"type": "ping", "id": "still-there"})
    assert (await until(late, protocol.PONG))["id"] == "still-there"
    assert reads == [[session.code]] * len(rounds)  # three sockets in the session, one read a round
    # The tally was pushed before the session's and the sign-out groups were joined again (a big
    # meeting has thousands of them), the question's own groups before it.
    before_the_tally = layer.group_adds[joins_before : joins_at_delivery[0]]
    assert protocol.tally_group(first.pk) in before_the_tally
    assert protocol.session_group(session.pk) not in before_the_tally
    assert protocol.session_group(session.pk) in layer.group_adds[joins_at_delivery[0] :]


async def test_memberships_are_renewed_questions_often_other_groups_seldom(sockets, meeting, monkeypatch):
    """channels_redis expires group memberships, so the hub renews them: its few question groups every
    REJOIN_SECONDS, the other groups (one per signed-in browser: thousands) every GROUPS_RENEW_SECONDS."""
    from tests.live.conftest import session_cookie
    from voting import live

    monkeypatch.setattr(fanout, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(fanout, "REJOIN_SECONDS", 0.02)
    monkeypatch.setattr(fanout, "GROUPS_RENEW_SECONDS", 1.0)
    session, first, _ = meeting
    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    layer = FlakyLayer()
    channel_layers.set("default", layer)
    resident = await sync_to_async(factories.ResidentFactory)()
    await attendees(sockets, session, 1, [await sync_to_async(session_cookie)(resident)])
    tally, others = protocol.tally_group(first.pk), protocol.session_group(session.pk)

    async def renewals(group, at_least):
        while layer.group_adds.count(group) < at_least:
            await asyncio.sleep(0.01)
        return layer.group_adds.count(group)

    await asyncio.wait_for(renewals(tally, 6), timeout=5)
    assert layer.group_adds.count(others) == 1  # joined once, not yet renewed
    await asyncio.wait_for(renewals(others, 2), timeout=5)  # and renewed once its time comes
    assert layer.group_adds.count(tally) > 10


async def test_after_a_recovery_signed_in_sockets_check_their_sessions_together(live_db, monkeypatch):
    """Thousands of signed-in sockets re-checking their sessions one query each would queue on the
    worker's database thread; asked in the same pass of the event loop they share one lookup. A
    session that signed out, or whose password hash is stale, is signed in as nobody."""
    from django.contrib.sessions.models import Session

    from tests.live.conftest import session_cookie
    from voting import sockets

    residents = [await sync_to_async(factories.ResidentFactory)() for _ in range(4)]
    keys = [await sync_to_async(session_cookie)(r) for r in residents]
    await sync_to_async(Session.objects.filter(session_key=keys[1]).delete)()  # signed out meanwhile
    residents[3].password = "changed elsewhere, without any signal"
    await sync_to_async(type(residents[3]).objects.filter(pk=residents[3].pk).update)(
        password=residents[3].password
    )
    lookups = []
    real = sockets.signed_in_as.fetch

    def counted(asked):
        lookups.append(sorted(asked))
        return real(asked)

    monkeypatch.setattr(sockets.signed_in_as, "fetch", counted)
    answers = await asyncio.gather(*(sockets.signed_in_as.get(k) for k in [*keys, keys[0]]))
    assert answers == [residents[0].pk, None, residents[2].pk, None, residents[0].pk]
    assert lookups == [sorted(keys)]
