"""Runs inference off the event loop, always on the newest frame.

ai-runner calls put_video_frame and get_processed_video_frame from two concurrent loops on one
event loop, so neither may block it. The worker takes submissions without waiting, runs them
one at a time on its own thread, and keeps both of its queues short by dropping the oldest
entry: when the model is slower than the stream, frames are skipped, and latency cannot grow.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


def _put_dropping_oldest(queue: asyncio.Queue, item: object) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


class InferenceWorker(Generic[Job, Result]):
    """`submit(job)` never waits; `await next_result()` waits for `infer(job)` of a submitted
    job. An exception raised by `infer` is raised by the `next_result()` that would have
    returned its result, so the caller (ai-runner) logs and reports it."""

    def __init__(
        self, infer: Callable[[Job], Result], max_pending: int = 1, max_results: int = 2
    ) -> None:
        self._infer = infer
        self._pending: asyncio.Queue[Job] = asyncio.Queue(max_pending)
        self._results: asyncio.Queue[Result | BaseException] = asyncio.Queue(max_results)
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            # One thread: jobs run in order, and a GPU model is only ever used by one caller.
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
            self._task = asyncio.create_task(self._run(self._executor))

    def submit(self, job: Job) -> None:
        _put_dropping_oldest(self._pending, job)

    async def next_result(self) -> Result:
        result = await self._results.get()
        if isinstance(result, BaseException):
            raise result
        return result

    async def stop(self) -> None:
        """Stop taking jobs and wait for the one in flight, so nothing uses the model after."""
        task, executor = self._task, self._executor
        self._task = self._executor = None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)

    async def _run(self, executor: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await self._pending.get()
            try:
                result: Result | BaseException = await loop.run_in_executor(
                    executor, self._infer, job
                )
            except Exception as error:
                result = error
            _put_dropping_oldest(self._results, result)
