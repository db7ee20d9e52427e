"""The mutex engine among threads of one process: exclusion, order, timeouts, cancel, ownership."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from strongroom.core.invalid_value import InvalidValue
from strongroom.core.mutex import (
    AlreadyHeldError,
    MutexCancelled,
    MutexOwner,
    MutexTimeout,
    NotOwnerError,
)

from .conftest import wait_until


def owner(job: str, operation: str = "backup", store: str = "docs") -> MutexOwner:
    return MutexOwner(job_id=job, operation=operation, store=store)


class InvariantChecker:
    """Counts holders per store type inside critical sections; remembers any violation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.inside: dict[str, int] = defaultdict(int)
        self.max_inside: dict[str, int] = defaultdict(int)
        self.intervals: list[tuple[str, float, float]] = []

    def enter(self, store_type: str) -> float:
        with self._lock:
            self.inside[store_type] += 1
            self.max_inside[store_type] = max(self.max_inside[store_type], self.inside[store_type])
        return time.monotonic()

    def leave(self, store_type: str, started: float) -> None:
        with self._lock:
            self.inside[store_type] -= 1
            self.intervals.append((store_type, started, time.monotonic()))


def test_simultaneous_jobs_on_several_store_types_never_hang(registry):
    """The original failure: many threads backing up different store types at once."""
    types = ["folder", "sqlite", "mail"]
    checker = InvariantChecker()
    errors: list[BaseException] = []

    def job(worker: int) -> None:
        try:
            for round_ in range(40):
                store_type = types[(worker + round_) % len(types)]
                with registry.acquire(store_type, owner(f"{worker}-{round_}"), timeout=30):
                    started = checker.enter(store_type)
                    sum(range(200))  # a little work inside the critical section
                    checker.leave(store_type, started)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=job, args=(n,), name=f"job-{n}") for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [t.name for t in threads if t.is_alive()], "jobs hung"
    assert errors == []
    assert len(checker.intervals) == 12 * 40
    assert dict(checker.max_inside) == {t: 1 for t in types}
    for store_type in types:
        spans = sorted((a, b) for t, a, b in checker.intervals if t == store_type)
        assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:])), f"two holders of {store_type}"
    assert all(status.state == "free" and not status.waiters for status in registry.status())
    for store_type in types:  # every waiter record was removed again
        assert not list(registry.lockdir.waiting_dir(store_type).glob("*.json"))


def test_different_store_types_never_wait_for_each_other(registry):
    with registry.acquire("folder", owner("a"), timeout=1):
        got = []

        def other() -> None:
            with registry.acquire("sqlite", owner("b"), timeout=0) as hold:
                got.append(hold)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=10)
        assert len(got) == 1


def test_same_store_type_excludes_and_timeout_names_the_holder(registry):
    with registry.acquire("folder", owner("job-7", "restore", "mail"), timeout=1) as hold:
        result: list[BaseException] = []

        def contender() -> None:
            try:
                registry.acquire("folder", owner("job-8"), timeout=0.2)
            except MutexTimeout as error:
                result.append(error)

        thread = threading.Thread(target=contender)
        thread.start()
        thread.join(timeout=10)
        assert len(result) == 1
        message = str(result[0])
        for part in ("strongroom.folder", "job job-7", "restore", "'mail'", f"pid {hold.record.pid}",
                     hold.record.host, "since 20"):
            assert part in message
        assert result[0].holder.job_id == "job-7"


def status_of(registry, store_type: str):
    """The mutex's status as the lock panel and `strongroom locks` see it (its records on disk)."""
    return {status.store_type: status for status in registry.status()}[store_type]


def test_threads_get_the_mutex_in_arrival_order(registry):
    order: list[str] = []
    first = registry.acquire("folder", owner("first"), timeout=1)
    threads = []
    for n in range(6):
        def take(name: str = f"t{n}") -> None:
            with registry.acquire("folder", owner(name), timeout=30):
                order.append(name)

        thread = threading.Thread(target=take, name=f"t{n}")
        thread.start()
        threads.append(thread)
        wait_until(lambda n=n: len(status_of(registry, "folder").waiters) == n + 1)
    assert [w.job_id for w in status_of(registry, "folder").waiters] == [f"t{n}" for n in range(6)]
    first.release()
    for thread in threads:
        thread.join(timeout=30)
    assert order == [f"t{n}" for n in range(6)]


def test_cancel_ends_a_wait_promptly(registry):
    cancel = threading.Event()
    outcome: list[BaseException] = []
    with registry.acquire("sqlite", owner("holder"), timeout=1):
        def waiter() -> None:
            try:
                registry.acquire("sqlite", owner("waiter"), timeout=60, cancel=cancel)
            except MutexCancelled as error:
                outcome.append(error)

        thread = threading.Thread(target=waiter)
        thread.start()
        wait_until(lambda: status_of(registry, "sqlite").waiters)
        cancel.set()
        thread.join(timeout=5)  # far less than the 60 s it was willing to wait
        assert not thread.is_alive()
    assert len(outcome) == 1 and "strongroom.sqlite" in str(outcome[0])
    assert status_of(registry, "sqlite").waiters == ()
    assert not any(registry.lockdir.waiting_dir("sqlite").glob("*.json"))


def test_cancel_accepts_a_callable(registry):
    with registry.acquire("sqlite", owner("holder"), timeout=1):
        result = []
        thread = threading.Thread(target=lambda: result.append(
            pytest.raises(MutexCancelled, registry.acquire, "sqlite", owner("w"), timeout=60, cancel=lambda: True)))
        thread.start()
        thread.join(timeout=5)
        assert result


def test_release_by_another_thread_is_an_error(registry):
    hold = registry.acquire("folder", owner("a"), timeout=1)
    errors = []

    def intruder() -> None:
        try:
            hold.release()
        except NotOwnerError as error:
            errors.append(error)

    thread = threading.Thread(target=intruder, name="intruder")
    thread.start()
    thread.join(timeout=5)
    assert len(errors) == 1 and "intruder" in str(errors[0]) and "job a" in str(errors[0])
    assert status_of(registry, "folder").holder.job_id == "a"  # still held
    hold.release()
    with pytest.raises(NotOwnerError, match="already released"):
        hold.release()


def test_asking_again_for_a_held_mutex_raises_instead_of_deadlocking(registry):
    with registry.acquire("folder", owner("a"), timeout=1):
        with pytest.raises(AlreadyHeldError, match="already holds mutex strongroom.folder"):
            registry.acquire("folder", owner("a"), timeout=5)


def test_timeout_must_be_a_non_negative_number(registry):
    for bad in (-1, float("nan"), "5", True):
        with pytest.raises(InvalidValue):
            registry.acquire("folder", owner("a"), timeout=bad)


def test_listeners_hear_every_change_of_this_process(registry):
    heard = []
    registry.add_listener(heard.append)
    with registry.acquire("folder", owner("a"), timeout=1):
        assert heard == ["folder"]
    assert heard == ["folder", "folder"]
    registry.remove_listener(heard.append)


@pytest.mark.parametrize("fields", [dict(operation="frobnicate"), dict(job_id=""), dict(store="s" * 300),
                                    dict(job_id=7)])
def test_an_owner_that_would_make_an_unreadable_record_is_refused(fields):
    with pytest.raises(InvalidValue):
        MutexOwner(**{"job_id": "j", "operation": "backup", "store": "s", **fields})


def test_a_long_thread_name_still_makes_a_readable_record(registry):
    seen = []

    def job() -> None:
        with registry.acquire("folder", owner("j"), timeout=1):
            seen.append({s.store_type: s for s in registry.status()}["folder"])

    thread = threading.Thread(target=job, name="t" * 1000)
    thread.start()
    thread.join(10)
    assert seen[0].state == "held" and seen[0].holder.thread == "t" * 256


def test_a_thread_that_ends_while_holding_never_leaves_the_mutex_stuck(registry):
    careless = threading.Thread(target=lambda: registry.acquire("folder", owner("careless"), timeout=1),
                                name="careless")
    careless.start()
    careless.join(10)
    with registry.acquire("folder", owner("next"), timeout=5) as hold:
        assert hold.abandoned is not None and hold.abandoned.job_id == "careless"
        assert any("thread careless ended without releasing" in note for note in hold.notes)
    assert {s.store_type: s.state for s in registry.status()}["folder"] == "free"
