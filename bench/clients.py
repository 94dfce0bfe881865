"""Lean websocket clients for the load generators: thousands of watchers that timestamp what they receive.

A watcher must cost the load generator as little as possible, or the generator measures itself: with
``websockets``' asyncio client (a reader task per connection, a message queue, ``json.loads`` of every
frame) one Python process could not observe a sub-300 ms broadcast to 5,000 sockets. Here each
connection is a non-blocking socket read by an event-loop reader callback, driving ``websockets``'
Sans-I/O ``ClientProtocol``: the library does the handshake (with the Origin and Cookie headers a
browser sends), frame parsing, ping and close replies; no task, no queue, no keepalive timer. Per tally
frame, one regex search for its ``"version"`` number and one list append. Every other frame (snapshots,
acks, errors) is parsed in full, and a reply wakes whoever waits for its ``id``.

Arrival times come from the kernel. One process stands in for thousands of phones and reads their
sockets one after another: after a broadcast, the last of 10,000 sockets is read a few hundred
milliseconds after its frame arrived, time no phone would add. Each socket asks for receive timestamps
(``SO_TIMESTAMPNS``), so a frame is timed when the kernel took it in; the time the generator read it is
kept beside it, and the benchmarks print how far behind the generator was.

Run under uvloop (the entry points do), everything binds to and connects to 127.0.0.1 only. Linux only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import resource
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidHandshake
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import CONT, TEXT, Frame
from websockets.protocol import CONNECTING, OPEN
from websockets.uri import parse_uri

#: A tally frame as ``voting.broadcast.tally_event`` serialises it (and as the baseline server sends it):
#: compact JSON that starts with its type, its payload's ``version`` before any nested object.
_TALLY_PREFIX = b'{"type":"tally"'
_VERSION = re.compile(rb'"version":(-?\d+)')
_RECORDED_TYPES = ("tally", "snapshot")

#: Linux's receive timestamps in nanoseconds (``SO_TIMESTAMPNS``; the ``socket`` module has no name
#: for it), delivered with each read as a ``struct timespec``.
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size)
_READ_SIZE = 256 * 1024


class Socket:
    """One websocket connection. ``received`` holds ``(arrival, version, read)`` for every tally or
    snapshot frame that carries a version (the question's ``tally_seq`` that the tally includes):
    when the kernel received it and when this process read it."""

    def __init__(self, url: str, origin: str, cookie: str | None, *, record: bool = True) -> None:
        self.uri = parse_uri(url)
        # Offer compression as browsers do (Chromium: "permessage-deflate; client_max_window_bits"); a
        # server that accepts keeps a zlib stream per socket and compresses every frame for each one.
        self.ws = ClientProtocol(
            self.uri,
            origin=origin,
            max_size=None,
            extensions=[ClientPerMessageDeflateFactory(client_max_window_bits=True)],
        )
        self.cookie = cookie
        self.record = record
        self.received: list[tuple[float, int, float]] = []
        self.loop = asyncio.get_running_loop()
        self.sock: socket.socket | None = None
        self.opened: asyncio.Future[None] = self.loop.create_future()
        self.closed: asyncio.Future[None] = self.loop.create_future()
        self.pending: dict[Any, asyncio.Future[dict]] = {}
        self._fragments: list[bytes] | None = None
        #: When the kernel received the latest reply to a ``request``.
        self.reply_arrival = 0.0
        self._unsent = bytearray()  # what the kernel's send buffer had no room for
        self._eof_pending = False

    # Connection ------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and send the handshake request; ``opened`` resolves when the server accepts."""
        sock = self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await self.loop.sock_connect(sock, (self.uri.host, self.uri.port))
        self.loop.add_reader(sock.fileno(), self._readable)
        request = self.ws.connect()
        if self.cookie:
            request.headers["Cookie"] = self.cookie
        self.ws.send_request(request)
        self._flush()

    def _readable(self) -> None:
        try:
            data, ancillary, _flags, _address = self.sock.recvmsg(_READ_SIZE, _ANCILLARY)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        read_at = time.time()
        arrival = read_at
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack(value[: _TIMESPEC.size])
                arrival = seconds + nanoseconds * 1e-9
        ws = self.ws
        if not data:
            ws.receive_eof()
            self._flush()
            self._lost(None)
            return
        ws.receive_data(data)
        for event in ws.events_received():
            if type(event) is Frame:
                opcode = event.opcode
                if opcode is TEXT:
                    if event.fin:
                        self._text(arrival, read_at, event.data)
                    else:
                        self._fragments = [event.data]
                elif opcode is CONT and self._fragments is not None:
                    self._fragments.append(event.data)
                    if event.fin:
                        self._text(arrival, read_at, b"".join(self._fragments))
                        self._fragments = None
                # Ping, pong and close frames: the protocol object answers them itself.
            else:  # the handshake response
                self._handshake_done()
        if ws.writes:
            self._flush()

    def _lost(self, exc: BaseException | None) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            self.loop.remove_reader(sock.fileno())
            self.loop.remove_writer(sock.fileno())
            sock.close()
        if not self.opened.done():
            self.opened.set_exception(
                self.ws.handshake_exc or exc or ConnectionResetError("closed during the handshake")
            )
        if not self.closed.done():
            self.closed.set_result(None)
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(ConnectionResetError("connection closed before the reply"))
        self.pending.clear()

    def abort(self) -> None:
        self._lost(None)

    # Frames ----------------------------------------------------------------------------------------
    def _text(self, arrival: float, read_at: float, data: bytes) -> None:
        if data.startswith(_TALLY_PREFIX):
            match = _VERSION.search(data, 15)
            if match is not None:
                if self.record:
                    self.received.append((arrival, int(match.group(1)), read_at))
                return
        message = json.loads(data)
        if self.pending:
            waiter = self.pending.pop(message.get("id"), None)
            if waiter is not None and not waiter.done():
                self.reply_arrival = arrival
                waiter.set_result(message)
        if self.record and message.get("type") in _RECORDED_TYPES:
            payload = message.get("payload")
            if isinstance(payload, dict) and isinstance(payload.get("version"), int):
                self.received.append((arrival, payload["version"], read_at))

    def _handshake_done(self) -> None:
        if self.opened.done():
            return
        if self.ws.handshake_exc is None:
            self.opened.set_result(None)
        else:
            self.opened.set_exception(self.ws.handshake_exc)
            self._lost(None)

    # Writing ---------------------------------------------------------------------------------------
    def _flush(self) -> None:
        for chunk in self.ws.data_to_send():
            if self.sock is None:
                continue  # closed: drop what the protocol still had to say
            if chunk:
                self._write(chunk)
            elif self._unsent:
                self._eof_pending = True
            else:
                self._shutdown_write()

    def _write(self, chunk: bytes) -> None:
        if not self._unsent:
            try:
                sent = self.sock.send(chunk)  # type: ignore[union-attr]
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._lost(exc)
                return
            if sent == len(chunk):
                return
            chunk = chunk[sent:]
            self.loop.add_writer(self.sock.fileno(), self._writable)  # type: ignore[union-attr]
        self._unsent += chunk

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._unsent)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        del self._unsent[:sent]
        if not self._unsent:
            self.loop.remove_writer(self.sock.fileno())  # type: ignore[union-attr]
            if self._eof_pending:
                self._shutdown_write()

    def _shutdown_write(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)  # type: ignore[union-attr]

    # Use -------------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.ws.state is OPEN

    def send_text(self, text: str) -> None:
        self.ws.send_text(text.encode())
        self._flush()

    async def request(self, message: dict, timeout: float = 60.0) -> dict:
        """Send ``message`` and return the first frame whose ``id`` is the same (ack or error)."""
        waiter = self.loop.create_future()
        self.pending[message["id"]] = waiter
        self.send_text(json.dumps(message, separators=(",", ":")))
        async with asyncio.timeout(timeout):
            return await waiter

    def start_close(self) -> None:
        if self.ws.state is OPEN:
            self.ws.send_close(1000)
            self._flush()
        elif self.ws.state is CONNECTING:
            self._lost(None)

    async def close(self, timeout: float = 5.0) -> None:
        self.start_close()
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self.closed)
        except TimeoutError:
            self.abort()


@dataclass
class ConnectStats:
    retries: int = 0
    seconds: float = 0.0
    errors: list[BaseException] = field(default_factory=list)


#: What a refused or dropped handshake raises: the server said no (``InvalidStatus``), closed the
#: socket mid-handshake (``InvalidMessage``), refused or reset the TCP connection, or did not answer.
RETRYABLE = (OSError, InvalidHandshake, TimeoutError)

#: Handshakes in flight while opening watchers. Against 2 daphne workers the handshake is bound by the
#: server (about 10 ms of its CPU each: session, database, channel-layer group): 50 and 100 in flight
#: opened the same ~70 watchers/s, 200 made the workers refuse some (retried). The client's own share
#: is under 1 ms of CPU per handshake.
CONNECT_CONCURRENCY = 50


async def _open_once(url: str, origin: str, cookie: str | None, *, record: bool, timeout: float) -> Socket:
    sock = Socket(url, origin, cookie, record=record)
    try:
        async with asyncio.timeout(timeout):
            await sock.start()
            await sock.opened
    except BaseException:
        if not sock.opened.done():
            sock.opened.cancel()  # nobody will wait for it now
        sock.abort()
        raise
    return sock


async def connect(
    url: str,
    origin: str,
    cookie: str | None = None,
    *,
    record: bool = True,
    timeout: float = 60.0,
    attempts: int = 8,
    stats: ConnectStats | None = None,
) -> Socket:
    """Open one socket. A refused handshake is retried with jittered exponential backoff, as browsers
    do (``static/js/live.js`` backs off and reconnects): 0.2 s, 0.4 s ... at most 5 s."""
    for attempt in range(attempts):
        try:
            return await _open_once(url, origin, cookie, record=record, timeout=timeout)
        except RETRYABLE:
            if attempt == attempts - 1:
                raise
            if stats is not None:
                stats.retries += 1
            await asyncio.sleep(min(5.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


async def open_watchers(
    urls: list[str],
    count: int,
    origin: str,
    *,
    cookie: str | None = None,
    concurrency: int = CONNECT_CONCURRENCY,
    attempts: int = 8,
) -> tuple[list[Socket], ConnectStats]:
    """Open ``count`` watchers spread round-robin over ``urls`` (one per worker), at most
    ``concurrency`` handshakes in flight. Returns once every watcher is connected; raises (after closing
    the ones that did connect) if any could not."""
    soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft_limit != resource.RLIM_INFINITY and count + 100 > soft_limit:
        # Past the limit every connect fails with EMFILE and would be retried in vain: say so at once.
        raise RuntimeError(f"{count} watchers need more open files than this process's limit ({soft_limit})")
    stats = ConnectStats()
    sockets: list[Socket | None] = [None] * count
    indices = iter(range(count))
    started = time.monotonic()

    async def lane() -> None:
        for index in indices:  # the lanes share one iterator: each index is taken once
            try:
                sockets[index] = await connect(
                    urls[index % len(urls)], origin, cookie, attempts=attempts, stats=stats
                )
            except Exception as exc:
                stats.errors.append(exc)

    await asyncio.gather(*(lane() for _ in range(min(concurrency, count))))
    stats.seconds = time.monotonic() - started
    opened = [s for s in sockets if s is not None]
    if stats.errors:
        await close_watchers(opened)
        raise RuntimeError(f"{len(stats.errors)} of {count} watchers could not connect: {stats.errors[0]!r}")
    return opened, stats


async def close_watchers(sockets: list[Socket], timeout: float = 10.0) -> None:
    """Start every closing handshake at once, wait for the server to close, abort the stragglers."""
    for sock in sockets:
        sock.start_close()
    waiting = [s.closed for s in sockets if not s.closed.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=timeout)
    for sock in sockets:
        if not sock.closed.done():
            sock.abort()
