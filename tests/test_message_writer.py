"""Group commit: concurrent sends share a transaction, and each is acknowledged only once
the commit that stores it has landed, with its events in the room's order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from parley.actions.messages import send_message
from parley.errors import ApiError, Conflict, NotFound
from parley.events import Event
from parley.extensions import db
from parley.models import Membership, Message, Room, User
from parley.schemas.users import UserPublic
from parley.store.message_batch import (
    INSERT_ROWS_PER_STATEMENT,
    SEQ_ROOMS_PER_STATEMENT,
    Draft,
    write_batch,
)
from parley.store.message_writer import MessageWriter
from parley.store.send_queue import GATHER_ENOUGH, Batch, SendQueue, State, Ticket, WriteFailed
from parley.store.sequence import room_lock
from support import Member, make_room, run_under_gevent, send


@pytest.fixture
def writer(app: Flask, monkeypatch: pytest.MonkeyPatch) -> MessageWriter:
    """A writer of this test's own, so its counts are the test's."""
    fresh = MessageWriter()
    monkeypatch.setitem(app.extensions, "parley.message_writer", fresh)
    return fresh


def in_threads(app: Flask, jobs: list[Callable[[], Any]], *, to_the_end: bool = False) -> list[Any]:
    """Runs each job on its own thread and app context, all released at once; returns
    each job's result or the exception it raised. `to_the_end` keeps whatever ends a
    thread, interrupts included, and fails if a thread is still waiting afterwards."""
    results: list[Any] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))
    caught = BaseException if to_the_end else Exception

    def run(index: int) -> None:
        with app.app_context():
            start.wait()
            try:
                results[index] = jobs[index]()
            except caught as exc:
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), daemon=to_the_end) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30 if to_the_end else 60)
    if to_the_end:
        assert not [t for t in threads if t.is_alive()], "a sender was left waiting"
    return results


def sender(
    user_id: int, room_id: int, body: str, client_id: str | None = None
) -> Callable[[], Any]:
    def job() -> tuple[int, bool, int, str]:
        user = db.session.get(User, user_id)
        assert user is not None
        message, created, _ = send_message(user, room_id, body, client_id)
        return message.id, created, message.seq, message.author.username

    return job


def stored(app: Flask, room_id: int) -> list[tuple[int, int, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Message.id, Message.seq, Message.body)
            .where(Message.room_id == room_id)
            .order_by(Message.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def hold_room(room_id: int) -> threading.Lock:
    """Takes the room's order lock, as an edit in progress would: a batch for that room
    waits, and the sends behind it queue up."""
    lock = room_lock(room_id)
    lock.acquire()
    return lock


def test_sends_queued_behind_a_commit_share_the_next_one(
    app: Flask, alice: Member, writer: MessageWriter, events: list[Event]
) -> None:
    room = make_room(alice, "general")
    events.clear()
    held = hold_room(room["id"])
    releaser = threading.Timer(0.5, held.release)
    releaser.start()
    results = in_threads(app, [sender(alice.id, room["id"], f"m{i}") for i in range(12)])
    releaser.join()

    assert not [r for r in results if isinstance(r, Exception)], results
    rows = stored(app, room["id"])
    assert sorted(r[0] for r in results) == [row[0] for row in rows]
    assert all(created for _, created, _, _ in results)
    # The first sender's batch waited on the room; the other eleven queued meanwhile
    # and went in at most two more commits.
    assert writer.written == 12
    assert writer.batches <= 3
    # Ids, sequence numbers and events all in one order.
    assert [row[1] for row in rows] == list(range(1, 13))
    assert [e.payload["message"]["id"] for e in events] == [row[0] for row in rows]
    assert [e.payload["seq"] for e in events] == list(range(1, 13))
    assert {r[3] for r in results} == {"alice"}


def test_every_acknowledged_send_is_stored_once_when_many_rooms_write_at_once(
    app: Flask, make_user: Callable[..., Member], writer: MessageWriter, events: list[Event]
) -> None:
    owners = [make_user(f"owner{i}") for i in range(4)]
    rooms = [make_room(owner, f"room{i}")["id"] for i, owner in enumerate(owners)]
    events.clear()
    jobs = [
        sender(owners[i % 4].id, rooms[i % 4], f"body {i}", client_id=f"c{i}") for i in range(40)
    ]
    results = in_threads(app, jobs)

    assert not [r for r in results if isinstance(r, Exception)], results
    for room_id in rooms:
        rows = stored(app, room_id)
        assert len(rows) == 10
        assert [row[1] for row in rows] == list(range(1, 11))
        published = [e.payload["message"]["id"] for e in events if e.room_id == room_id]
        assert published == [row[0] for row in rows]
    # Each sender was answered with its own message: the id it got is stored with the
    # sequence number it got.
    seq_of = {row[0]: row[1] for room_id in rooms for row in stored(app, room_id)}
    assert all(seq_of[message_id] == seq for message_id, _, seq, _ in results)
    assert writer.written == 40


def test_the_same_client_id_twice_in_one_batch_is_stored_once(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    room = make_room(alice, "general")
    held = hold_room(room["id"])
    releaser = threading.Timer(0.5, held.release)
    releaser.start()
    results = in_threads(app, [sender(alice.id, room["id"], "once", "same-id")] * 6)
    releaser.join()

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({message_id for message_id, _, _, _ in results}) == 1
    assert sorted(created for _, created, _, _ in results) == [False] * 5 + [True]
    assert len(stored(app, room["id"])) == 1


def test_a_resend_after_the_commit_answers_with_the_stored_message(
    app: Flask, alice: Member, writer: MessageWriter, events: list[Event]
) -> None:
    room = make_room(alice, "general")
    with app.app_context():
        user = db.session.get_one(User, alice.id)
        first, created, _ = send_message(user, room["id"], "hello", "c-1")
        assert created
        # Built from what was written: nothing is left in the session to flush.
        assert not db.session.new and not db.session.dirty
        db.session.commit()
        events.clear()
        again, created, _ = send_message(user, room["id"], "hello, edited body ignored", "c-1")
        assert not created
        assert again.id == first.id
        assert again.body == "hello"
        assert events == []
        db.session.remove()


def test_a_new_send_skips_the_client_id_lookup_and_a_resend_still_finds_the_stored_one(
    app: Flask, alice: Member, writer: MessageWriter, count_queries: Callable[[], Any]
) -> None:
    room = make_room(alice, "general")
    with app.app_context():
        user = db.session.get_one(User, alice.id)
        with count_queries() as first_send:
            first, created, _ = send_message(user, room["id"], "hello", "c-1")
        assert created
        with count_queries() as resend:
            again, created, _ = send_message(user, room["id"], "hello", "c-1")
        db.session.remove()

    def lookups(statements: list[str]) -> list[str]:
        return [s for s in statements if "messages.client_id IN" in s]

    assert lookups(first_send.statements) == []
    # The resend's insert failed on the unique index; the batch was written again after
    # a lookup, which found the first message, and took no sequence number.
    assert len(lookups(resend.statements)) == 1
    assert not created and again.id == first.id
    with app.app_context():
        assert db.session.get_one(Room, room["id"]).last_seq == first.seq
    assert len(stored(app, room["id"])) == 1


def test_a_client_id_used_in_another_room_is_refused(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    general = make_room(alice, "general")
    other = make_room(alice, "other")
    with app.app_context():
        user = db.session.get_one(User, alice.id)
        send_message(user, general["id"], "hello", "c-1")
        with pytest.raises(Conflict) as raised:
            send_message(user, other["id"], "hello", "c-1")
        assert raised.value.code == "client_id_reused"
        db.session.remove()
    assert stored(app, other["id"]) == []


def test_a_room_deleted_while_its_send_waited_fails_only_that_send(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    doomed = make_room(alice, "doomed")
    kept = make_room(alice, "kept")
    held = hold_room(doomed["id"])

    def delete_then_release() -> None:
        with app.app_context():
            db.session.execute(sa.delete(Room).where(Room.id == doomed["id"]))
            db.session.commit()
            db.session.remove()
        held.release()

    releaser = threading.Timer(0.5, delete_then_release)
    releaser.start()
    results = in_threads(
        app,
        [sender(alice.id, doomed["id"], "lost cause")]
        + [sender(alice.id, kept["id"], f"fine {i}") for i in range(3)],
    )
    releaser.join()

    assert isinstance(results[0], NotFound)
    assert not [r for r in results[1:] if isinstance(r, ApiError)], results
    assert len(stored(app, kept["id"])) == 3


def test_a_send_and_its_repeat_in_a_deleted_room_each_get_an_error_of_their_own(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    doomed = make_room(alice, "doomed")
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        public = UserPublic.model_validate(user)
        db.session.execute(sa.delete(Room).where(Room.id == doomed["id"]))
        db.session.commit()
        batch = [Draft(public, doomed["id"], "b", "<p>b</p>", "same") for _ in range(2)]
        write_batch(batch)
        db.session.remove()
    first, repeat = (draft.error for draft in batch)
    assert isinstance(first, NotFound) and isinstance(repeat, NotFound)
    assert first is not repeat


def write_as_one_batch(
    app: Flask,
    writer: MessageWriter,
    author: Member,
    rooms: list[int],
    *,
    with_client_ids: bool = False,
) -> list[Draft]:
    """One send to each room listed (a room may be listed again), written as one batch."""
    with app.app_context():
        user = db.session.get(User, author.id)
        assert user is not None
        public = UserPublic.model_validate(user)
        db.session.remove()
        batch = [
            Draft(
                public,
                room_id,
                f"body {i}",
                f"<p>body {i}</p>",
                f"c-{i}" if with_client_ids else None,
            )
            for i, room_id in enumerate(rooms)
        ]
        write_batch(batch)
        db.session.remove()
    assert not [draft.error for draft in batch if draft.error is not None]
    return batch


def room_updates(statements: list[str]) -> list[str]:
    return [s for s in statements if " ".join(s.split()).startswith("UPDATE rooms")]


def test_a_batch_takes_the_sequence_numbers_of_all_its_rooms_in_one_statement(
    app: Flask, alice: Member, writer: MessageWriter, count_queries: Callable[[], Any]
) -> None:
    rooms = [make_room(alice, f"room{i}")["id"] for i in range(3)]
    with count_queries() as counted:
        write_as_one_batch(app, writer, alice, list(reversed(rooms)) * 2)

    assert len(room_updates(counted.statements)) == 1
    locks = [s for s in counted.statements if "FOR UPDATE" in s]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert locks == []
    else:
        # The rows are locked first, in id order, as every process's batches lock them.
        assert len(locks) == 1
        assert "ORDER BY rooms.id" in " ".join(locks[0].split())
        assert counted.statements.index(locks[0]) < counted.statements.index(
            room_updates(counted.statements)[0]
        )
    for room_id in rooms:
        assert [row[1] for row in stored(app, room_id)] == [1, 2]


def test_a_batch_over_more_rooms_than_one_statement_gives_every_room_its_numbers(
    app: Flask, alice: Member, writer: MessageWriter, count_queries: Callable[[], Any]
) -> None:
    rooms = [make_room(alice, f"room{i}")["id"] for i in range(SEQ_ROOMS_PER_STATEMENT + 3)]
    for room_id in rooms[:5]:
        assert send(alice, room_id, "earlier").status_code == 201
    with count_queries() as counted:
        write_as_one_batch(app, writer, alice, rooms * 2)

    assert len(room_updates(counted.statements)) == 2
    for room_id in rooms[:5]:
        assert [row[1] for row in stored(app, room_id)] == [1, 2, 3]
    for room_id in rooms[5:]:
        assert [row[1] for row in stored(app, room_id)] == [1, 2]
    with app.app_context():
        last_seqs = {id_: seq for id_, seq in db.session.execute(sa.select(Room.id, Room.last_seq))}
        db.session.remove()
    assert [last_seqs[room_id] for room_id in rooms] == [3] * 5 + [2] * (len(rooms) - 5)


def test_a_send_makes_the_senders_session_read_the_room_and_its_read_mark_again(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    room = make_room(alice, "general")
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        loaded_room = db.session.get(Room, room["id"])
        membership = db.session.get(Membership, (room["id"], alice.id))
        assert loaded_room is not None and membership is not None
        assert loaded_room.last_seq == 0
        message, _, _ = send_message(user, room["id"], "hello")
        assert loaded_room.last_seq == 1
        assert membership.last_read_message_id == message.id
        db.session.remove()


def test_a_batch_of_more_messages_than_one_insert_stores_each_as_its_sender_was_told(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    room = make_room(alice, "general")
    sends = INSERT_ROWS_PER_STATEMENT * 2 + 1
    batch = write_as_one_batch(app, writer, alice, [room["id"]] * sends, with_client_ids=True)
    with app.app_context():
        stored_messages = {
            message.id: message
            for message in db.session.scalars(
                sa.select(Message).where(Message.room_id == room["id"])
            )
        }
        db.session.remove()
    assert len(stored_messages) == len(batch)
    for draft in batch:
        assert draft.out is not None
        message = stored_messages[draft.out.id]
        # What each sender was answered with is what was stored, the time to the
        # microsecond and in UTC included.
        assert (message.seq, message.body, message.html, message.client_id) == (
            draft.out.seq,
            draft.body,
            draft.html,
            draft.client_id,
        )
        assert message.created_at == draft.created_at == draft.out.created_at
        assert message.created_at.utcoffset() == timedelta(0)
    assert sorted(m.seq for m in stored_messages.values()) == list(range(1, len(batch) + 1))


def test_a_send_that_fails_in_a_batch_fails_alone_with_an_error_of_its_own(
    app: Flask, alice: Member, bob: Member, writer: MessageWriter
) -> None:
    room = make_room(alice, "general")
    assert bob.post(f"/api/v1/rooms/{room['id']}/join").status_code == 201
    held = hold_room(room["id"])

    def delete_bob_then_release() -> None:
        # bob's account goes while his two sends wait: their rows can no longer be
        # inserted (the author's foreign key), which fails the batch they are in.
        with app.app_context():
            db.session.execute(sa.delete(User).where(User.id == bob.id))
            db.session.commit()
            db.session.remove()
        held.release()

    releaser = threading.Timer(0.5, delete_bob_then_release)
    releaser.start()
    jobs = [sender(alice.id, room["id"], f"alice {i}", f"a{i}") for i in range(3)]
    jobs += [sender(bob.id, room["id"], f"bob {i}", f"b{i}") for i in range(2)]
    results = in_threads(app, jobs)
    releaser.join()

    alices, bobs = results[:3], results[3:]
    assert not [r for r in alices if isinstance(r, BaseException)], alices
    assert all(created for _, created, _, _ in alices)
    assert all(isinstance(r, Exception) for r in bobs), bobs
    # Each sender raises an exception object of its own, never one shared by all.
    assert bobs[0] is not bobs[1]
    assert sorted(body for _, _, body in stored(app, room["id"])) == [
        "alice 0",
        "alice 1",
        "alice 2",
    ]


def test_a_leader_interrupted_mid_batch_leaves_no_follower_unanswered(
    app: Flask, alice: Member, writer: MessageWriter
) -> None:
    room = make_room(alice, "general")
    interrupted: list[int] = []

    def interrupt_a_batch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The first insert of several rows: its thread writes a batch that carries
        # other senders' messages, and is interrupted before the commit.
        several = statement.startswith("INSERT INTO messages") and "), (" in statement
        if several and not interrupted:
            interrupted.append(threading.get_ident())
            raise SystemExit("interrupted mid-batch")

    held = hold_room(room["id"])
    releaser = threading.Timer(0.5, held.release)
    releaser.start()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", interrupt_a_batch)
    try:
        results = in_threads(
            app,
            [sender(alice.id, room["id"], f"m{i}", f"c{i}") for i in range(12)],
            to_the_end=True,
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", interrupt_a_batch)
        releaser.join()

    assert interrupted, "no batch of several sends was written"
    stopped = [r for r in results if isinstance(r, BaseException)]
    # Only the interrupted leader stops; everyone whose send it carried is answered
    # by a later batch, stored once each.
    assert len(stopped) == 1 and isinstance(stopped[0], SystemExit), results
    answered = [r for r in results if not isinstance(r, BaseException)]
    assert all(created for _, created, _, _ in answered)
    rows = stored(app, room["id"])
    assert sorted(r[0] for r in answered) == [row[0] for row in rows]
    assert [row[1] for row in rows] == list(range(1, 12))


def test_a_leader_interrupted_after_its_commit_answers_its_followers_as_stored(
    app: Flask, alice: Member, writer: MessageWriter, events: list[Event]
) -> None:
    """Stopped while publishing, the batch is already stored: its senders are told so,
    and nothing is written twice (these sends have no client_id to catch a second)."""
    room = make_room(alice, "general")
    interrupted: list[int] = []

    def interrupt_the_publishing(event: Event) -> None:
        if event.type == "message:new" and event.payload["seq"] > 1 and not interrupted:
            interrupted.append(threading.get_ident())
            raise SystemExit("interrupted after the commit")

    held = hold_room(room["id"])
    releaser = threading.Timer(0.5, held.release)
    releaser.start()
    unsubscribe = app.extensions["parley.bus"].subscribe(interrupt_the_publishing)
    try:
        results = in_threads(
            app, [sender(alice.id, room["id"], f"m{i}") for i in range(12)], to_the_end=True
        )
    finally:
        unsubscribe()
        releaser.join()

    assert interrupted
    stopped = [r for r in results if isinstance(r, BaseException)]
    assert len(stopped) == 1 and isinstance(stopped[0], SystemExit), results
    answered = [r for r in results if not isinstance(r, BaseException)]
    assert all(created for _, created, _, _ in answered)
    rows = stored(app, room["id"])
    # Twelve stored once each: the interrupted sender's own message too, for its commit
    # had landed; the eleven answered are among them.
    assert len(rows) == 12
    assert {r[0] for r in answered} < {row[0] for row in rows}
    assert [row[1] for row in rows] == list(range(1, 13))


GREENLET_BODY = r"""
from parley.store.sequence import room_lock


def send(n):
    with app.app_context():
        try:
            user = db.session.get(User, made["user"]["id"])
            message, created, _ = send_message(user, room["id"], f"m{n}", f"c{n}")
            return {"id": message.id, "created": created}
        except BaseException as exc:
            return {"error": repr(exc)}
        finally:
            db.session.remove()


held = room_lock(room["id"])
held.acquire()
# The first greenlet leads: it lets the others queue, takes them all into its batch and
# waits for the room, mid-batch, when it is killed.
senders = [gevent.spawn(send, n) for n in range(9)]
leader, followers = senders[0], senders[1:]
gevent.sleep(0.3)
leader.kill()
held.release()
done = gevent.joinall(followers, timeout=20)
with app.app_context():
    rows = db.session.execute(db.select(Message.id, Message.body)).all()
print(
    json.dumps(
        {
            "leader": leader.value,
            "answered": len(done),
            "results": [f.value if f.successful() else repr(f.exception) for f in followers],
            "stored": sorted(body for _, body in rows),
        }
    )
)
"""


def test_a_leader_greenlet_killed_mid_batch_hands_its_followers_on(tmp_path: Any) -> None:
    """Under gevent (a process of its own, monkey-patched as the server runs): killing
    the greenlet that writes a batch leaves none of the greenlets waiting on it."""
    found = run_under_gevent(GREENLET_BODY, tmp_path / "greenlets.db")
    assert "GreenletExit" in found["leader"]["error"]
    assert found["answered"] == 8
    assert all(r.get("created") is True for r in found["results"]), found["results"]
    assert found["stored"] == sorted(f"m{n}" for n in range(1, 9))


def test_a_sender_stopped_after_being_handed_the_lead_hands_it_on() -> None:
    queue: SendQueue[str, str] = SendQueue(lambda batch: None, limit=10, deadline_seconds=5)
    first, second = Ticket[str, str]("first"), Ticket[str, str]("second")
    queue._writing = True
    queue._queue = [first, second]
    first.state = State.LEADING  # its turn to write the next batch, as the last leader left it

    queue._give_up(first)

    assert queue._queue == [second]
    assert second.state is State.LEADING
    assert queue._writing


def test_the_last_sender_stopped_leaves_the_queue_idle() -> None:
    queue: SendQueue[str, str] = SendQueue(lambda batch: None, limit=10, deadline_seconds=5)
    only = Ticket[str, str]("only")
    queue._writing = True
    queue._queue = [only]
    only.state = State.LEADING

    queue._give_up(only)

    assert queue._queue == []
    assert not queue._writing


def test_a_batch_the_writer_could_not_settle_fails_each_sender_with_its_own_error() -> None:
    """The queue's last resort, under the message writer's own handling: a batch whose
    write raised answers every sender in it, each with an exception object of its own."""
    first_batch = threading.Event()
    cause = RuntimeError("the database went away")

    def write(batch: Batch[str, str]) -> None:
        if not first_batch.is_set():
            first_batch.set()
            time.sleep(0.3)  # the other senders queue meanwhile, for the next batch
            for ticket in batch:
                ticket.resolve(ticket.item)
            return
        raise cause

    queue: SendQueue[str, str] = SendQueue(write, limit=10, deadline_seconds=5)
    results: dict[str, Any] = {}

    def submit(item: str) -> None:
        try:
            results[item] = queue.submit(item)
        except Exception as exc:
            results[item] = exc

    leader = threading.Thread(target=submit, args=("lead",))
    leader.start()
    first_batch.wait(5)
    others = [threading.Thread(target=submit, args=(f"s{i}",)) for i in range(3)]
    for thread in others:
        thread.start()
    for thread in [leader, *others]:
        thread.join(10)

    assert results["lead"] == "lead"
    failures = [results[f"s{i}"] for i in range(3)]
    assert all(isinstance(f, WriteFailed) and f.__cause__ is cause for f in failures)
    assert len({id(f) for f in failures}) == 3


def echo_batches(batches: list[list[str]]) -> Callable[[Batch[str, str]], None]:
    def write(batch: Batch[str, str]) -> None:
        batches.append([ticket.item for ticket in batch])
        for ticket in batch:
            ticket.resolve(ticket.item)

    return write


def test_a_lone_send_is_written_at_once_without_gathering() -> None:
    """Gathering would hold it for a minute: it is answered long before."""
    batches: list[list[str]] = []
    queue: SendQueue[str, str] = SendQueue(
        echo_batches(batches), limit=100, deadline_seconds=120, gather_seconds=60
    )
    sender = threading.Thread(target=queue.submit, args=("alone",), daemon=True)
    sender.start()
    sender.join(20)
    assert not sender.is_alive()
    assert batches == [["alone"]]


def test_under_steady_load_a_leader_gathers_the_sends_that_arrive_until_enough_have_queued() -> (
    None
):
    """Sends arrive a millisecond apart, several at a time: the leader waits for more, up
    to a minute, and stops as soon as one insert statement's worth has queued; all share
    one commit."""
    batches: list[list[str]] = []
    queue: SendQueue[str, str] = SendQueue(
        echo_batches(batches), limit=100, deadline_seconds=120, gather_seconds=60
    )
    queue._gap, queue._last_batch = 0.001, 2
    results: dict[str, str] = {}

    def submit(item: str) -> None:
        results[item] = queue.submit(item)

    leader = threading.Thread(target=submit, args=("s0",), daemon=True)
    leader.start()
    deadline = time.monotonic() + 20
    while queue._gathering is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue._gathering is not None, "the leader did not gather"
    others = [
        threading.Thread(target=submit, args=(f"s{n}",), daemon=True)
        for n in range(1, GATHER_ENOUGH)
    ]
    for thread in others:
        thread.start()
    for thread in [leader, *others]:
        thread.join(20)
    assert not any(thread.is_alive() for thread in [leader, *others])
    assert len(batches) == 1 and sorted(batches[0]) == sorted(results)
    assert len(results) == GATHER_ENOUGH


def test_a_writer_sharing_the_sends_with_other_processes_gathers_that_many_times_as_long() -> None:
    """With N processes each writing its share of the sends, each waits N times as long
    for a batch, so the cluster commits about as often as one process would."""
    writer = MessageWriter(gather_seconds=0.004)
    assert writer.queue.gather_seconds == 0.004
    writer.share_with(3)
    assert writer.queue.gather_seconds == pytest.approx(0.012)
    writer.share_with(1)
    assert writer.queue.gather_seconds == 0.004
    # A process not yet counted in the registry (Redis down at its start) is alone.
    writer.share_with(0)
    assert writer.queue.gather_seconds == 0.004
