"""The ai-runner release table: one row per release, each complete and consistent."""

import re

from .rendering import NEWEST_RELEASE, RELEASES


def test_every_row_has_what_the_template_renders_from():
    for tag, row in RELEASES.items():
        assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), tag
        assert row["live_base_image"] == f"livepeer/ai-runner:live-base-{tag}"
        assert row["python"] == sorted(row["python"], key=lambda v: tuple(map(int, v.split("."))))
        assert all(re.fullmatch(r"3\.\d+", version) for version in row["python"])
        newest_python = tuple(map(int, row["python"][-1].split(".")))
        assert tuple(map(int, row["python_below"].split("."))) > newest_python
        assert re.fullmatch(r"\d+\.\d+\.\d+", row["torch"]), row["torch"]
        # torch's build is the index's: pytorch-<build> at download.pytorch.org/whl/<build>
        index = row["torch_index"]
        build = re.fullmatch(r"https://download\.pytorch\.org/whl/(cu\d+)", index["url"])
        assert build, index["url"]
        assert index["name"] == f"pytorch-{build[1]}"
        assert row["notes"].strip()


def test_rows_are_newest_first_and_the_newest_supports_python_3_11():
    versions = [tuple(map(int, tag[1:].split("."))) for tag in RELEASES]
    assert versions == sorted(versions, reverse=True)
    # our machines (and CI) run Python 3.11 only: the default release must allow it
    assert "3.11" in RELEASES[NEWEST_RELEASE]["python"]


def test_ai_runner_v0_14_1_or_later_only():
    # v0.14.0's /version and /hardware/* answer 500 when the runner is started by hand
    assert all(tuple(map(int, tag[1:].split("."))) >= (0, 14, 1) for tag in RELEASES)
