"""The benchmark's CPU setting (commands.with_one_cpu_thread_per_team): one torch thread a team,
set before torch loads by running the command again, and never over the user's own choice."""

import os
import sys

import pytest
from ai_runner_kit import commands


@pytest.fixture
def execs(monkeypatch) -> list[list[str]]:
    ran: list[list[str]] = []
    monkeypatch.setattr(commands.os, "execv", lambda path, argv: ran.append([path, *argv]))
    for name in ("OMP_NUM_THREADS", "PIPELINE_DEVICE"):
        # set first, so that monkeypatch restores the variable as it was, whatever the code sets
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return ran


def test_on_a_cpu_the_command_runs_again_with_one_thread_a_team(execs, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    commands.with_one_cpu_thread_per_team(["--frames", "10"])
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert execs == [[sys.executable, sys.executable, *sys.orig_argv[1:]]]


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--frames", "10"], {"OMP_NUM_THREADS": "2"}),  # the user's choice
        (["--device", "cuda"], {}),
        (["--require-gpu"], {}),
        ([], {"PIPELINE_DEVICE": "cuda:1"}),
    ],
    ids=["user-set", "device-cuda", "require-gpu", "pipeline-device"],
)
def test_a_chosen_setting_or_a_gpu_run_is_left_alone(execs, monkeypatch, argv, env):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    commands.with_one_cpu_thread_per_team(argv)
    assert execs == []
    assert os.environ.get("OMP_NUM_THREADS") == env.get("OMP_NUM_THREADS")


def test_a_machine_with_a_gpu_is_left_alone(execs, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    commands.with_one_cpu_thread_per_team([])
    assert execs == [] and "OMP_NUM_THREADS" not in os.environ
