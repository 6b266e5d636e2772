"""The kit's inference worker (ai_runner_kit.live.worker): newest first, bounded, never blocking
the loop."""

import asyncio
import threading

import pytest
from ai_runner_kit.live import InferenceWorker, WorkerStopped


async def test_results_come_back_in_order_when_the_model_keeps_up():
    worker = InferenceWorker(lambda job: job * 10)
    worker.start()
    try:
        for job in range(5):
            worker.submit(job)
            assert await asyncio.wait_for(worker.next_result(), timeout=10) == job * 10
    finally:
        await worker.stop()


async def test_oldest_pending_job_is_dropped_when_the_model_is_busy():
    release = threading.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def infer(job):
        loop.call_soon_threadsafe(started.set)
        release.wait(timeout=10)
        return job

    worker = InferenceWorker(infer, max_pending=1)
    worker.start()
    try:
        worker.submit("first")
        await asyncio.wait_for(started.wait(), timeout=10)
        for job in ("second", "third", "newest"):
            worker.submit(job)
        release.set()
        assert await asyncio.wait_for(worker.next_result(), timeout=10) == "first"
        assert await asyncio.wait_for(worker.next_result(), timeout=10) == "newest"
    finally:
        await worker.stop()


async def test_oldest_result_is_dropped_when_nobody_reads():
    worker = InferenceWorker(lambda job: job, max_results=2)
    worker.start()
    try:
        for job in range(6):
            worker.submit(job)
            await asyncio.sleep(0.05)  # let each one finish
        assert [await worker.next_result(), await worker.next_result()] == [4, 5]
    finally:
        await worker.stop()


async def test_an_error_is_raised_by_next_result_and_the_worker_goes_on():
    def infer(job):
        if job == "bad":
            raise ValueError("bad frame")
        return job

    worker = InferenceWorker(infer)
    worker.start()
    try:
        worker.submit("bad")
        with pytest.raises(ValueError, match="bad frame"):
            await asyncio.wait_for(worker.next_result(), timeout=10)
        worker.submit("good")
        assert await asyncio.wait_for(worker.next_result(), timeout=10) == "good"
    finally:
        await worker.stop()


async def test_stop_waits_for_the_job_in_flight():
    finished = threading.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def infer(job):
        loop.call_soon_threadsafe(started.set)
        threading.Event().wait(0.3)
        finished.set()
        return job

    worker = InferenceWorker(infer)
    worker.start()
    worker.submit("job")
    await asyncio.wait_for(started.wait(), timeout=10)
    await worker.stop()
    assert finished.is_set()


async def test_a_stopped_worker_refuses_jobs_and_wakes_a_waiting_reader():
    worker = InferenceWorker(lambda job: job)
    with pytest.raises(WorkerStopped):
        worker.submit("before start")
    worker.start()
    waiting = asyncio.ensure_future(worker.next_result())
    await asyncio.sleep(0.05)
    await worker.stop()
    with pytest.raises(WorkerStopped):
        await asyncio.wait_for(waiting, timeout=10)
    with pytest.raises(WorkerStopped):
        worker.submit("after stop")
    with pytest.raises(WorkerStopped):
        await asyncio.wait_for(worker.next_result(), timeout=10)


async def test_a_restarted_worker_returns_nothing_from_before_the_stop():
    worker = InferenceWorker(lambda job: job)
    worker.start()
    worker.submit("before")
    await asyncio.sleep(0.1)  # done, unread
    await worker.stop()
    worker.start()
    try:
        worker.submit("after")
        assert await asyncio.wait_for(worker.next_result(), timeout=10) == "after"
    finally:
        await worker.stop()
