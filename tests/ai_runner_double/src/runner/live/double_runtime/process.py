"""The runner's handle on the double's pipeline process (parent side).

What ai-runner's infer process shares with its pipeline process, reproduced: an input queue
and an output queue of one frame each (a frame that does not fit is dropped), a queue of
parameter updates (drained to the latest by the child), a queue of errors, a "ready" flag
(cleared while a reload task runs) and a "done" flag. The process is spawned.

This module is imported by runner.app, so it stays light: no torch, av or numpy here.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnContext
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized, SynchronizedString
from multiprocessing.synchronize import Event
from typing import Any

logger = logging.getLogger(__name__)

PROCESS_NAME_PREFIX = "ai-runner-double-pipeline"
_ERROR_MESSAGE_BYTES = 4096
_JOIN_TIMEOUT_S = 10.0
_KILL_TIMEOUT_S = 5.0
_FEEDER_JOIN_TIMEOUT_S = 2.0


@dataclass
class ProcessChannels:
    """Everything the two processes share; created by the parent, passed to the child."""

    input_queue: Queue
    output_queue: Queue
    param_queue: Queue
    error_queue: Queue
    ready: Event
    ready_time: Synchronized
    done: Event
    init_error: SynchronizedString

    @classmethod
    def create(cls, context: SpawnContext) -> ProcessChannels:
        return cls(
            input_queue=context.Queue(maxsize=1),
            output_queue=context.Queue(maxsize=1),
            param_queue=context.Queue(),
            error_queue=context.Queue(),
            ready=context.Event(),
            ready_time=context.Value("d", 0.0),
            done=context.Event(),
            init_error=context.Array("c", _ERROR_MESSAGE_BYTES),
        )

    def record_init_failure(self, message: str) -> None:
        # Keep one byte for the terminating NUL of the shared char array.
        self.init_error.value = message.encode()[: _ERROR_MESSAGE_BYTES - 1]

    def set_ready(self, ready: bool) -> None:
        if ready:
            with self.ready_time.get_lock():
                self.ready_time.value = time.time()
            self.ready.set()
        else:
            self.ready.clear()

    def queues(self) -> tuple[Queue, ...]:
        return (self.input_queue, self.output_queue, self.param_queue, self.error_queue)


def try_put(target: Queue, item: Any) -> bool:
    """Put without waiting; False (item dropped) when the queue is full."""
    try:
        target.put_nowait(item)
    except queue.Full:
        return False
    return True


def clear(target: Queue, most: int = 10_000) -> None:
    """Drop what the queue holds (at most `most` items: a flooding producer cannot stall it)."""
    for _ in range(most):
        try:
            target.get_nowait()
        except queue.Empty:
            return
        except Exception:
            logger.exception("ai-runner double: could not clear a process queue")
            return


class PipelineProcessHandle:
    """Starts, feeds, reads and stops the spawned pipeline process."""

    def __init__(self, spec_json: str, model_dir: str, name: str):
        self._spec_json = spec_json
        self._model_dir = model_dir
        self._name = name
        self.process: multiprocessing.process.BaseProcess | None = None
        self.channels: ProcessChannels | None = None
        self.start_time = 0.0
        self._error_at_stop: str | None = None
        # start/stop/restart come from the monitor's thread and from the runner's shutdown.
        self._lifecycle = threading.Lock()
        self._retired = False
        self.restarting = False

    def start(self) -> None:
        with self._lifecycle:
            if not self._retired:
                self._start()

    def restart(self) -> None:
        """Stop the process (its pipeline's stop() runs) and start a fresh one, as upstream."""
        with self._lifecycle:
            if self._retired:
                return
            self.restarting = True
            try:
                self._stop()
                self._start()
            finally:
                self.restarting = False

    def _start(self) -> None:
        from .pipeline_loops import run_pipeline_process

        context = multiprocessing.get_context("spawn")
        self.channels = ProcessChannels.create(context)
        self.process = context.Process(
            target=run_pipeline_process,
            args=(self._spec_json, self._model_dir, self.channels, os.getpid()),
            name=self._name,
            # Daemonic so an interpreter exit never waits on it; stop() ends it cleanly first.
            daemon=True,
        )
        self.process.start()
        self.start_time = time.time()

    def is_alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def is_ready(self) -> tuple[bool, float | None]:
        """(ready, when it became ready); never ready once asked to stop."""
        channels = self.channels
        if channels is None or not channels.ready.is_set() or channels.done.is_set():
            return False, None
        with channels.ready_time.get_lock():
            return True, channels.ready_time.value

    @property
    def last_error(self) -> str | None:
        """Why initialization last failed, as a pipeline process reported it (restarts too)."""
        channels = self.channels
        current = channels.init_error.value.decode(errors="replace") if channels else ""
        return current or self._error_at_stop

    def send_input(self, frame: Any) -> bool:
        return self.channels is not None and try_put(self.channels.input_queue, frame)

    def recv_output(self, timeout: float) -> Any | None:
        """The next output, or None after `timeout` s (blocking: call it in a thread)."""
        channels = self.channels
        if channels is None or channels.done.is_set():
            return None
        try:
            return channels.output_queue.get(timeout=timeout)
        except queue.Empty:
            return None
        except Exception:
            # E.g. a tensor whose sender died before it could be received.
            logger.exception("ai-runner double: could not receive an output frame")
            return None

    def update_params(self, params: dict) -> None:
        if self.channels is not None:
            self.channels.param_queue.put(params)

    def reset_stream(self, request_id: str, manifest_id: str, stream_id: str) -> None:
        """Forget the previous stream's frames, updates and errors; tag the next stream."""
        channels = self.channels
        if channels is None:
            return
        for shared_queue in channels.queues():
            clear(shared_queue)
        channels.param_queue.put(
            {"request_id": request_id, "manifest_id": manifest_id, "stream_id": stream_id}
        )

    def drain_errors(self) -> list[dict]:
        errors: list[dict] = []
        if self.channels is None:
            return errors
        while True:
            try:
                errors.append(self.channels.error_queue.get_nowait())
            except queue.Empty:
                return errors
            except Exception:
                logger.exception("ai-runner double: could not read the error queue")
                return errors

    def stop(self) -> None:
        """Ask the process to stop (it calls Pipeline.stop()); terminate it if it does not.

        Final: a later start() or restart() does nothing.
        """
        with self._lifecycle:
            self._retired = True
            self._stop()

    def _stop(self) -> None:
        process, self.process = self.process, None
        channels, self.channels = self.channels, None
        if process is None or channels is None:
            return
        channels.done.set()
        process.join(_JOIN_TIMEOUT_S)
        if process.is_alive():
            logger.warning("ai-runner double: pipeline process did not stop, terminating it")
            process.terminate()
            process.join(_KILL_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join(_KILL_TIMEOUT_S)
        self._error_at_stop = (
            channels.init_error.value.decode(errors="replace") or self._error_at_stop
        )
        _close_queues(channels.queues())
        process.close()
        logger.info("ai-runner double: pipeline process stopped")


def _close_queues(queues: tuple[Queue, ...]) -> None:
    """Close the queues and let their feeder threads end, so their semaphores are released.

    A feeder thread holds two semaphores until it ends; if uvicorn re-raises SIGTERM while one
    still runs, the resource tracker reports them as leaked. With the child gone and the read
    ends closed, a feeder blocked on the pipe gets EPIPE and ends; the wait is bounded anyway.
    """
    for shared_queue in queues:
        shared_queue.close()

    def join_feeders() -> None:
        for shared_queue in queues:
            shared_queue.join_thread()

    joiner = threading.Thread(target=join_feeders, name="double-queue-close", daemon=True)
    joiner.start()
    joiner.join(_FEEDER_JOIN_TIMEOUT_S)
    if joiner.is_alive():
        logger.warning("ai-runner double: a process queue's feeder thread did not end")
