"""Runs inference off the event loop, always on the newest frame.

ai-runner calls put_video_frame and get_processed_video_frame from two concurrent loops on one
event loop, so neither may block it. The worker takes submissions without waiting, runs them
one at a time on its own thread, and keeps both of its queues short by dropping the oldest
entry: when the model is slower than the stream, frames are skipped, and latency cannot grow.

A stopped worker takes nothing and returns nothing: `submit` and `next_result` raise
WorkerStopped, a caller already waiting in `next_result` is woken with it, and what was queued
before the stop is dropped, so a worker started again never returns a frame from before.
"""

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar, cast

Job = TypeVar("Job")
Result = TypeVar("Result")


class WorkerStopped(RuntimeError):
    """The worker is not running: before start() (the pipeline's initialize()) or after stop()."""


# Put in the results queue by stop(), to wake a caller waiting in next_result().
_STOPPED = object()


def _put_dropping_oldest(queue: asyncio.Queue, item: object) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


def _drain(queue: asyncio.Queue) -> None:
    while not queue.empty():
        queue.get_nowait()


class InferenceWorker(Generic[Job, Result]):
    """`submit(job)` never waits; `await next_result()` waits for `infer(job)` of a submitted
    job. An exception raised by `infer` is raised by the `next_result()` that would have
    returned its result, so the caller (ai-runner) logs and reports it."""

    def __init__(
        self, infer: Callable[[Job], Result], max_pending: int = 1, max_results: int = 2
    ) -> None:
        self._infer = infer
        # A deque with maxlen drops its oldest entry when full: the bounded, newest-first queue.
        self._pending: deque[Job] = deque(maxlen=max_pending)
        self._results: asyncio.Queue[Result | BaseException | object] = asyncio.Queue(max_results)
        self._job_ready = threading.Condition()
        self._thread: threading.Thread | None = None
        # Each start() begins a new run; results of an older run are never delivered.
        self._run_number = 0

    def start(self) -> None:
        if self._thread is None:
            _drain(self._results)  # a wake-up left by an earlier stop()
            self._run_number += 1
            # One thread of its own, looping on jobs: it goes from one job to the next without
            # waiting for the event loop, and a GPU model is only ever used by one caller.
            self._thread = threading.Thread(
                target=self._run,
                args=(asyncio.get_running_loop(), self._run_number),
                name="inference",
                daemon=True,
            )
            self._thread.start()

    def submit(self, job: Job) -> None:
        if self._thread is None:
            raise WorkerStopped("submit() before start() or after stop(): nothing will run it")
        with self._job_ready:
            self._pending.append(job)
            self._job_ready.notify()

    async def next_result(self) -> Result:
        if self._thread is None and self._results.empty():
            raise WorkerStopped("next_result() before start() or after stop(): nothing will come")
        result = await self._results.get()
        if result is _STOPPED:
            raise WorkerStopped("the worker was stopped (the pipeline's stop()) while waiting")
        if isinstance(result, BaseException):
            raise result
        return cast(Result, result)  # neither the stop marker nor an error

    async def stop(self) -> None:
        """Stop taking jobs and wait for the one in flight, so nothing uses the model after."""
        thread, self._thread = self._thread, None
        with self._job_ready:
            self._run_number += 1  # the thread's run is over: it exits after its current job
            self._pending.clear()
            self._job_ready.notify()
        if thread is not None:
            await asyncio.to_thread(thread.join)
        _drain(self._results)
        self._results.put_nowait(_STOPPED)

    def _run(self, loop: asyncio.AbstractEventLoop, run_number: int) -> None:
        """The worker's thread: wait for a job, run it, hand the result to the event loop."""
        while True:
            with self._job_ready:
                while not self._pending and self._run_number == run_number:
                    self._job_ready.wait()
                if self._run_number != run_number:
                    return
                job = self._pending.popleft()
            try:
                result: Result | BaseException = self._infer(job)
            except Exception as error:
                result = error
            try:
                loop.call_soon_threadsafe(self._deliver, result, run_number)
            except RuntimeError:  # the loop is closed: nobody is left to read it
                return

    def _deliver(self, result: Result | BaseException, run_number: int) -> None:
        """On the event loop: keep the result unless its run was stopped meanwhile."""
        if run_number == self._run_number:
            _put_dropping_oldest(self._results, result)
