"""Jinja global for the generated pyproject.toml: where the template came from, which decides
where the project takes the kit (ai-runner-kit, the kit/ folder beside the template) from.

- From a git URL (`copier copy --trust https://github.com/org/repo.git` or `gh:org/repo`): that
  repository at the release's tag, as a git source with `subdirectory = "kit"`. A fork's
  projects take the fork's kit, with nothing to configure.
- From a local folder (a clone being developed, CI, the offline quickstart): that folder's kit/,
  as a path source, so that the kit and the template being tried are the same checkout.

Loaded by copier through copier-template-extensions (`_jinja_extensions` in copier.yml).
Standard library and jinja2 only; never fails.
"""

import re
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

# What copier itself treats as a remote template (copier's _vcs.get_repo, abridged).
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|gh:|gl:)", re.IGNORECASE)
SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def template_source(src_path: str) -> dict[str, str]:
    """{"git": URL} for a remote template, {"path": ABSOLUTE FOLDER} for a local one, {} when the
    source is unknown (the caller falls back to the git source)."""
    if not src_path:
        return {}
    if REMOTE.match(src_path):
        url = src_path
        for shortcut, prefix in SHORTCUTS.items():
            if url.lower().startswith(shortcut):
                url = prefix + url[len(shortcut) :]
                if not url.endswith(".git"):
                    url += ".git"
        return {"git": url}
    # copier keeps a local path as it was typed, relative to where copier runs.
    folder = Path(src_path).expanduser().resolve()
    return {"path": folder.as_posix()} if (folder / "kit" / "pyproject.toml").is_file() else {}


class KitSourceExtension(Extension):
    """Adds the global `template_source(src_path)`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_source"] = template_source
