"""Group commit for new messages: sends that arrive together share one transaction.

A send is checked in its own request and then queued (send_queue): the sender that
finds no batch being written writes every send queued at that moment as one batch
(message_batch holds its SQL), and each sender is answered with its own message or its
own error. Sends that queue meanwhile form the next batch, written by one of their own
senders. So under load a commit carries many messages, alone a send is written at once,
under steady load the writer waits a few milliseconds for more sends to share a
commit, nothing is acknowledged before the commit that stores it, and a full queue is refused
at once as overloaded rather than left to grow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import Config
from .loop_lag import process_lag
from .message_batch import Draft, write_batch
from .send_queue import Batch, SendQueue, Ticket

Tickets = Batch[Draft, Draft]


class MessageWriter:
    def __init__(
        self,
        *,
        queue_limit: int = Config.PARLEY_SEND_QUEUE_LIMIT,
        queue_seconds: float = Config.PARLEY_SEND_QUEUE_SECONDS,
        lag_seconds: float = Config.PARLEY_SEND_LAG_SECONDS,
        gather_seconds: float = Config.PARLEY_SEND_GATHER_SECONDS,
    ) -> None:
        self.gather_seconds = gather_seconds
        self.queue: SendQueue[Draft, Draft] = SendQueue(
            self._write,
            limit=queue_limit,
            deadline_seconds=queue_seconds,
            lag=process_lag() if lag_seconds > 0 else None,
            lag_limit_seconds=lag_seconds,
            gather_seconds=gather_seconds,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MessageWriter:
        return cls(
            queue_limit=config["PARLEY_SEND_QUEUE_LIMIT"],
            queue_seconds=config["PARLEY_SEND_QUEUE_SECONDS"],
            lag_seconds=config["PARLEY_SEND_LAG_SECONDS"],
            gather_seconds=config["PARLEY_SEND_GATHER_SECONDS"],
        )

    def share_with(self, processes: int) -> None:
        """`processes` write this deployment's sends, each into its own database
        transactions (this one among them): each waits that many times as long to gather
        a batch, so that the cluster commits about as often as one process would for the
        same sends. Each commit costs the same however few rows it carries, and with a
        process's share of the sends, batches were that many times smaller: two
        processes spent 1.2 to 1.4 times one's CPU per message (docs/performance.md)."""
        self.queue.gather_seconds = self.gather_seconds * max(1, processes)

    @property
    def batches(self) -> int:
        """How many batches were written, for tests and profiling."""
        return self.queue.batches

    @property
    def written(self) -> int:
        """How many sends the batches carried."""
        return self.queue.written

    def write(self, draft: Draft, *, arrived_at: float | None = None) -> Draft:
        """Queue the send and return it once a commit has stored it (draft.out), or
        found it stored earlier (draft.earlier_id). Raises the send's own error, or
        Overloaded when the queue is full or the send waited past its deadline (since
        `arrived_at`, if given)."""
        return self.queue.submit(draft, arrived_at=arrived_at)

    def _write(self, tickets: Tickets) -> None:
        try:
            write_batch([ticket.item for ticket in tickets])
        except Exception as exc:
            if len(tickets) == 1:
                tickets[0].fail(exc)
                return
            # One send may be the cause (its author gone, a value the database refuses):
            # written one by one, the others are stored and each failure is its own.
            for ticket in tickets:
                self._write([ticket])
            return
        except BaseException:
            # Stopped mid-batch: what the commit already decided is answered; the rest
            # goes back to the queue (see SendQueue._put_back).
            for ticket in tickets:
                if ticket.item.committed:
                    _settle(ticket)
            raise
        for ticket in tickets:
            _settle(ticket)


def _settle(ticket: Ticket[Draft, Draft]) -> None:
    draft = ticket.item
    if draft.error is not None:
        ticket.fail(draft.error)
    else:
        ticket.resolve(draft)
