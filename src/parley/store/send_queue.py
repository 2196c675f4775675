"""A bounded queue of sends written in batches by one of their own senders at a time.

Each send waits on a ticket of its own, resolved with its own result or its own
exception. The first sender to find no batch being written leads: it takes every ticket
queued at that moment, has them written as one batch, then hands the lead to the first
ticket that queued meanwhile. A leader stopped mid-batch (its greenlet killed, an
interrupt) puts the sends it had not settled back at the head of the queue and still
hands the lead on, so no sender is left waiting for a batch nobody writes.

Under steady load the leader first waits a moment for more sends, as a database's group
commit does: at a few hundred sends a second, a batch of one each spent most of its CPU
on what every commit costs however many rows it carries (the figures are in
docs/performance.md). The wait tops the last batch's write up to `gather_seconds`: a
slow commit (PostgreSQL's flush to disk) already gathers the sends that arrive during
it, and waiting longer on top only added latency. It waits only while sends arrive
closer together than `gather_seconds` from more than one sender at a time (the last
batch carried several), so a lone send is written at once, one client's sends one
after another are never held, and it stops waiting as soon as a full statement's worth
has queued.

Overload is answered, never queued without end: a send that finds the queue full, or
that is still queued past the deadline when it could have gone into a batch, is refused
at once with `Overloaded` and is never written. A send once taken into a batch is
always answered with what became of it.

The threading primitives are looked up when used, so under gevent (whose monkey patching
replaces them) the senders are greenlets waiting on gevent's events.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from ..errors import Overloaded
from .loop_lag import LoopLag

Item = TypeVar("Item")
Result = TypeVar("Result")

# The least wait a refused sender is told.
MIN_RETRY_SECONDS = 1.0
# How quickly the writer's pace follows its latest batches (the weight of the newest).
PACE_WEIGHT = 0.2
# How quickly the gap between sends follows the latest ones.
GAP_WEIGHT = 0.1
# A leader gathering sends stops waiting once this many are queued: the rows one insert
# statement carries (message_batch.INSERT_ROWS_PER_STATEMENT).
GATHER_ENOUGH = 32


class WriteFailed(RuntimeError):
    """A send's batch failed in a way the writer did not settle; the cause is the
    batch's error, shared, while this exception is the sender's own."""

    @classmethod
    def of(cls, cause: BaseException) -> WriteFailed:
        failed = cls(f"The message could not be written: {type(cause).__name__}")
        failed.__cause__ = cause
        return failed


class State(enum.Enum):
    QUEUED = "queued"
    LEADING = "leading"  # queued, and handed the lead: it writes the next batch
    TAKEN = "taken"  # in a batch being written
    DONE = "done"


class Ticket(Generic[Item, Result]):
    """One send in the queue: a future resolved once, with a result or an exception."""

    def __init__(self, item: Item, arrived_at: float | None = None) -> None:
        self.item = item
        # Its deadline counts from here: when the send reached the process, if known.
        self.queued_at = time.monotonic() if arrived_at is None else arrived_at
        self.state = State.QUEUED
        self._wake = threading.Event()
        self._result: Result | None = None
        self._error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    def resolve(self, result: Result) -> None:
        if self.state is not State.DONE:
            self._result, self.state = result, State.DONE
            self._wake.set()

    def fail(self, error: BaseException) -> None:
        """Resolve with an exception, which must be this ticket's own: it is raised in
        its sender's thread, and one object raised in many would share one traceback."""
        if self.state is not State.DONE:
            self._error, self.state = error, State.DONE
            self._wake.set()

    def outcome(self) -> Result:
        if self._error is not None:
            raise self._error
        assert self.state is State.DONE
        return self._result  # type: ignore[return-value]


Batch = list[Ticket[Item, Result]]


class SendQueue(Generic[Item, Result]):
    """Sends queued for `write`, which is given each batch and must settle every ticket
    in it (or raise, leaving the unsettled ones to be written again)."""

    def __init__(
        self,
        write: Callable[[Batch[Item, Result]], None],
        *,
        limit: int,
        deadline_seconds: float,
        lag: LoopLag | None = None,
        lag_limit_seconds: float = 0.0,
        gather_seconds: float = 0.0,
    ) -> None:
        self._write = write
        self.gather_seconds = gather_seconds
        # Seconds between sends, recently (a moving average), and the last one's time.
        self._gap = float("inf")
        self._last_submit = 0.0
        # Set while a leader gathers: woken early once enough sends have queued.
        self._gathering: threading.Event | None = None
        # How many sends the last batch carried (more than one: others are sending), and
        # how long its write took.
        self._last_batch = 0
        self._last_write = 0.0
        self.limit = limit
        self.deadline_seconds = deadline_seconds
        # A process running this late is already past what a chat send may wait: a new
        # send is refused before any work is spent on it.
        self._lag = lag
        self.lag_limit_seconds = lag_limit_seconds
        self._lock = threading.Lock()
        self._queue: list[Ticket[Item, Result]] = []
        self._writing = False
        self._in_batch = 0
        # Seconds of writing per send, from the recent batches: how long a queue takes
        # to drain, which is what a refused sender is told to wait.
        self._pace = 0.0
        # How many sends the batches carried, and how many were refused, for tests and
        # profiling.
        self.batches = 0
        self.written = 0
        self.refused = 0

    def submit(self, item: Item, *, arrived_at: float | None = None) -> Result:
        """Queue the send; return its result once written, or raise its own error.

        Raises Overloaded at once when the queue is full, when the process runs late
        past its bound or the send already waited past the deadline since `arrived_at`,
        and when the send is still queued past the deadline.
        """
        ticket: Ticket[Item, Result] = Ticket(item, arrived_at)
        late = self._lag is not None and self._lag.behind() > self.lag_limit_seconds
        if time.monotonic() - ticket.queued_at > self.deadline_seconds:
            late = True
        with self._lock:
            if late or len(self._queue) >= self.limit:
                self.refused += 1
                raise self._overloaded()
            self._queue.append(ticket)
            self._note_arrival(time.monotonic())
            if self._gathering is not None and len(self._queue) >= GATHER_ENOUGH:
                self._gathering.set()
            if not self._writing:
                self._writing = True
                ticket.state = State.LEADING
        try:
            self._wait_for_turn(ticket)
        except BaseException:
            self._give_up(ticket)
            raise
        if ticket.state is State.LEADING:
            self._lead(ticket)
        return ticket.outcome()

    def _wait_for_turn(self, ticket: Ticket[Item, Result]) -> None:
        """Until the ticket is settled or handed the lead; a queued one is refused when
        its deadline passes, one in a batch waits for the batch."""
        deadline = ticket.queued_at + self.deadline_seconds
        while ticket.state in (State.QUEUED, State.TAKEN):
            if ticket.state is State.TAKEN:
                ticket._wake.wait()
                continue
            left = deadline - time.monotonic()
            if left > 0:
                ticket._wake.wait(left)
                continue
            with self._lock:
                if ticket.state is State.QUEUED:
                    self._queue.remove(ticket)
                    self.refused += 1
                    ticket.fail(self._overloaded())
            # Otherwise it was taken into a batch or handed the lead meanwhile.

    def _lead(self, ticket: Ticket[Item, Result]) -> None:
        batch: Batch[Item, Result] = []
        try:
            self._gather()
            with self._lock:
                batch = self._take_batch()
            if batch:
                started = time.monotonic()
                self._write(batch)
                self._last_write = time.monotonic() - started
                self._keep_pace(self._last_write, len(batch))
        except Exception as exc:
            # The writer settles every send it can: what it left is failed, each
            # sender with an exception of its own.
            for taken in batch:
                taken.fail(WriteFailed.of(exc))
        except BaseException:
            self._put_back(batch, ticket)
            raise
        finally:
            with self._lock:
                self._hand_on()

    def _note_arrival(self, now: float) -> None:
        """(Lock held.) Keeps the recent gap between sends."""
        if self._last_submit:
            gap = now - self._last_submit
            self._gap = (
                gap if self._gap == float("inf") else self._gap + GAP_WEIGHT * (gap - self._gap)
            )
        self._last_submit = now

    def _gather(self) -> None:
        """Before taking a batch: under steady load, wait for more sends to share the
        commit, up to what the last write left of `gather_seconds`; otherwise only let
        the sends already under way in other greenlets or threads reach the queue
        (alone, this returns at once)."""
        steady = self._gap < self.gather_seconds and self._last_batch > 1
        wait = self.gather_seconds - self._last_write
        if not steady or wait <= 0:
            time.sleep(0)
            return
        enough = threading.Event()
        with self._lock:
            if len(self._queue) >= GATHER_ENOUGH:
                return
            self._gathering = enough
        try:
            enough.wait(wait)
        finally:
            with self._lock:
                self._gathering = None

    def _take_batch(self) -> Batch[Item, Result]:
        """Every queued ticket (lock held): those within their deadline as the batch,
        the others refused."""
        now = time.monotonic()
        batch: Batch[Item, Result] = []
        for queued in self._queue:
            if now - queued.queued_at > self.deadline_seconds:
                self.refused += 1
                queued.fail(self._overloaded())
            else:
                queued.state = State.TAKEN
                batch.append(queued)
        self._queue = []
        self._in_batch = len(batch)
        if batch:
            self._last_batch = len(batch)
            self.batches += 1
            self.written += len(batch)
        return batch

    def _put_back(self, batch: Batch[Item, Result], leader: Ticket[Item, Result]) -> None:
        """The leader was stopped mid-batch: the sends it had not settled go back to the
        head of the queue, in order, for the next leader. Its own send has nobody left
        to answer: it is dropped."""
        with self._lock:
            unsettled = [t for t in batch if not t.done and t is not leader]
            for queued in unsettled:
                queued.state = State.QUEUED
            self._queue[:0] = unsettled
            self.written -= len(unsettled)

    def _hand_on(self) -> None:
        """After a batch (lock held): the first queued ticket leads the next one."""
        self._in_batch = 0
        if self._queue:
            first = self._queue[0]
            first.state = State.LEADING
            first._wake.set()
        else:
            self._writing = False

    def _give_up(self, ticket: Ticket[Item, Result]) -> None:
        """A waiting sender was stopped (its greenlet killed, say): its send leaves the
        queue, and if it had just been handed the lead, the lead goes on."""
        with self._lock:
            if ticket.state in (State.QUEUED, State.LEADING):
                self._queue.remove(ticket)
            if ticket.state is State.LEADING:
                self._hand_on()
            # A ticket in a batch is settled by its leader; nobody reads it now.

    def _keep_pace(self, seconds: float, sends: int) -> None:
        each = seconds / sends
        self._pace = each if not self._pace else self._pace + PACE_WEIGHT * (each - self._pace)

    @property
    def depth(self) -> int:
        """Sends waiting for their commit: queued, and in the batch being written."""
        return len(self._queue) + self._in_batch

    def retry_after(self) -> float:
        """Seconds until the sends queued and in the batch now would be written, at the
        recent pace; at least a second, so refused clients do not come straight back,
        and no more than the deadline, past which a send is refused anyway."""
        backlog = (len(self._queue) + self._in_batch) * self._pace
        return max(MIN_RETRY_SECONDS, min(self.deadline_seconds, backlog))

    def _overloaded(self) -> Overloaded:
        return Overloaded(self.retry_after())
