"""Jinja globals for copier.yml: the user's git identity, as defaults for the author questions.

Loaded by copier through copier-template-extensions (`_jinja_extensions` in copier.yml).
Copier cannot run a command in a default, so this asks `git config` each time one is rendered.
It never fails: where git is missing, slow or has no such setting, the value is "" and
copier.yml falls back to its placeholder. Standard library and jinja2 only.
"""

import subprocess

from jinja2 import Environment
from jinja2.ext import Extension

GIT_TIMEOUT_S = 5


def git_config(key: str) -> str:
    """`git config --get KEY`, stripped, or "" when git is missing, fails or has no value."""
    try:
        done = subprocess.run(
            ["git", "config", "--get", key],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return ""
    if done.returncode != 0:
        return ""
    return done.stdout.strip()


def git_user_name() -> str:
    return git_config("user.name")


def git_user_email() -> str:
    return git_config("user.email")


class GitConfigExtension(Extension):
    """Adds the globals `git_user_name()` and `git_user_email()`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["git_user_name"] = git_user_name
        environment.globals["git_user_email"] = git_user_email
