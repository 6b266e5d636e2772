"""The try command of a generated live project: real video in, a playable result out.

`<name>-try` runs the project's own pipeline on the offline double of ai-runner, as ai-runner's
pipeline process would (the kit's try, ai_runner_kit.live.tryit). Each output is checked by
decoding it.
"""

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from .ownership import package_of
from .projects import installed, run_in
from .rendering import render

NAME = "try-fx"
COMMAND = f"{NAME}-try"
SAMPLE_FPS = 24000 / 1001
# contact_sheet.py: a label row, then an input row above an output row of 192-pixel thumbnails
CONTACT_SHEET_HEIGHT = 24 + 2 * 192 + 3 * 4


@pytest.fixture(scope="module")
def project(template, tmp_path_factory):
    project = render(template, tmp_path_factory.mktemp("tryit") / "project", pipeline_name=NAME)
    with installed(project):
        yield project


def try_it(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    return run_in(project, COMMAND, *arguments, timeout=300)


def summary_of(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def decoded(path: Path) -> tuple[str, list[np.ndarray]]:
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
        return codec, [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def saturation(frame: np.ndarray) -> float:
    """How colourful a frame is: 0 for grey, up to 255."""
    rgb = frame.astype(np.int16)
    return float((rgb.max(axis=2) - rgb.min(axis=2)).mean())


def assert_contact_sheet(path: Path, columns: int) -> None:
    with Image.open(path) as sheet:
        assert sheet.format == "PNG"
        assert sheet.height == CONTACT_SHEET_HEIGHT
        assert sheet.width >= columns * 192


def make_video(path: Path, seconds: float, fps: int, width: int, height: int) -> Path:
    """A clip PyAV writes: a red field with a green bar moving across it."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(round(seconds * fps)):
            rgb = np.zeros((height, width, 3), np.uint8)
            rgb[..., 0] = 200
            rgb[:, (index * 5) % width : (index * 5) % width + 20, 1] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_the_sample_clip_becomes_an_h264_video_and_a_contact_sheet(project):
    # The first run prepares the models, as a user's first run does.
    summary = summary_of(try_it(project, "--sample", "--seconds", "1.5", "--json"))
    assert summary["output"] == "try-output/sample.mp4"
    assert summary["contact_sheet"] == "try-output/sample-contact-sheet.png"
    codec, frames = decoded(project / summary["output"])
    assert codec == "h264"
    assert summary["frames_in"] == 36  # 1.5 s at 23.976 fps
    assert len(frames) == summary["frames_out"] == 36 - summary["skipped"] > 0
    assert frames[0].shape == (512, 512, 3)
    assert summary["input_fps"] == pytest.approx(SAMPLE_FPS)
    latency = summary["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    assert_contact_sheet(project / summary["contact_sheet"], columns=6)
    assert (project / ".gitignore").read_text().count("try-output/") == 1


def test_a_video_file_plays_at_its_rate_capped_at_ai_runners_24_fps(project, tmp_path):
    clip = make_video(tmp_path / "clip.mp4", seconds=2, fps=30, width=320, height=240)
    output = tmp_path / "out" / "clip-try.mp4"
    done = try_it(
        project, str(clip), "--no-prepare", "--side-by-side", "--width", "384", "--height", "384",
        "--output", str(output), "--contact-sheet", str(tmp_path / "sheet.png"), "--json",
    )  # fmt: skip
    summary = summary_of(done)
    assert summary["input_fps"] == pytest.approx(SAMPLE_FPS)
    assert summary["frames_in"] == 48  # 2 s at 23.976 fps, not 60 frames at 30
    codec, frames = decoded(output)
    assert codec == "h264" and len(frames) == summary["frames_out"] > 0
    assert frames[0].shape == (384, 2 * 384, 3)  # the input, fitted to 384x384, then the output
    assert_contact_sheet(tmp_path / "sheet.png", columns=6)


def test_an_image_and_a_folder_of_images_become_pngs(project, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, size in enumerate([(400, 300), (300, 500)]):
        rgb = np.full((size[1], size[0], 3), (40 + 80 * index, 120, 200), np.uint8)
        Image.fromarray(rgb).save(folder / f"photo{index}.jpg")
    (folder / "notes.txt").write_text("not an image: left alone")

    summary = summary_of(try_it(project, str(folder), "--no-prepare", "--json"))
    assert summary["kind"] == "images" and summary["frames_out"] == 2
    pngs = sorted((project / summary["output"]).iterdir())
    assert [path.name for path in pngs] == ["photo0.png", "photo1.png"]
    for path in pngs:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", (512, 512))
    assert_contact_sheet(project / summary["contact_sheet"], columns=2)

    one = summary_of(try_it(project, str(folder / "photo1.jpg"), "--no-prepare", "--json"))
    assert [path.name for path in (project / one["output"]).iterdir()] == ["photo1.png"]


def test_a_params_schedule_changes_the_output_and_shows_the_reload(project):
    # Strength 0 passes the colour bars through; noir at full strength is grey. Noir needs other
    # weights: update_params returns a reload task, and ai-runner shows its loading frame.
    output = "try-output/schedule.mp4"
    done = try_it(
        project, "--sample", "--seconds", "3", "--no-prepare", "--output", output,
        "--params", '{"strength": 0.0}',
        "--params-at", '1.5={"style": "noir", "strength": 1.0}', "--json",
    )  # fmt: skip
    summary = summary_of(done)
    assert summary["param_changes"] == 2
    assert summary["loading_frames"] >= 1
    _, frames = decoded(project / output)
    early, late = saturation(frames[5]), saturation(frames[-3])
    assert early > 60 > 12 > late, (early, late)


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["missing.mp4"], 6, "missing.mp4 not found: give a video file, an image or a folder"),
        (["--camera", "/dev/video99"], 6, "no camera at /dev/video99"),
        # a device that exists but is no camera: PyAV's v4l2 input really opens it, and refuses
        (["--camera", "/dev/null"], 6, "cannot open the camera /dev/null"),
        (["--sample", "--params", '{"style": "sparkle"}'], 5, "--params: style: Input should be"),
        (["--sample", "--params", "{style"], 2, "--params is not valid JSON"),
        (["--sample", "--params-at", '2={"width": 1024}'], 5, "changes the output size"),
        (["empty-folder"], 6, "no images in empty-folder"),
        ([], 2, "give one input: SOURCE"),
    ],
    ids=["missing", "camera", "not-a-camera", "params", "json", "resize", "empty", "no-input"],
)
def test_bad_input_gets_one_line_that_says_what_to_do(project, arguments, exit_code, message):
    (project / "empty-folder").mkdir(exist_ok=True)
    done = try_it(project, "--no-prepare", *arguments)
    assert done.returncode == exit_code, done.stderr[-3000:]
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_command_has_help_and_is_the_kits_try_for_the_projects_spec(project):
    by_script = try_it(project, "--help")
    spec = f"{package_of(project)}.main:pipeline_spec"
    by_kit = run_in(project, "ai-runner-kit", "try", "--spec", spec, "-h")
    assert by_script.stdout.startswith(f"usage: {NAME}-try")
    assert by_kit.stdout.startswith("usage: ai-runner-kit try")
    for done in (by_script, by_kit):
        assert done.returncode == 0, done.stderr
        assert "--params-at SECONDS=JSON_OR_@FILE" in done.stdout
        assert "--side-by-side" in done.stdout and "--camera [DEVICE]" in done.stdout


# ---------------------------------------------------------------- batch: images through the app


@pytest.fixture(scope="module")
def batch_project(template, tmp_path_factory):
    project = render(
        template, tmp_path_factory.mktemp("tryit-batch") / "project",
        pipeline_name="try-batch", pipeline_kind="batch",
    )  # fmt: skip
    with installed(project):
        yield project


def test_batch_images_go_through_the_projects_own_app(batch_project, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(2):
        rgb = np.zeros((200, 300, 3), np.uint8)
        rgb[..., index] = 220  # red, then green: colourful until noir
        Image.fromarray(rgb).save(folder / f"photo{index}.png")
    done = run_in(
        batch_project, "try-batch-try", str(folder),
        "--params", '{"style": "noir", "strength": 1.0}', "--json",
        timeout=300,
    )  # fmt: skip
    summary = summary_of(done)
    assert summary["frames_out"] == 2
    outputs = sorted((batch_project / summary["output"]).iterdir())
    assert [path.name for path in outputs] == ["photo0.png", "photo1.png"]
    for path in outputs:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (300, 200)
            assert saturation(np.asarray(image.convert("RGB"))) < 12  # noir: grey
    assert_contact_sheet(batch_project / summary["contact_sheet"], columns=2)

    sample = summary_of(
        run_in(batch_project, "try-batch-try", "--sample", "--no-prepare", "--json")
    )
    assert [p.name for p in (batch_project / sample["output"]).iterdir()] == ["sample.png"]


def test_batch_refusals_say_what_to_do(batch_project, tmp_path):
    refused = run_in(
        batch_project, "try-batch-try", "--sample", "--no-prepare", "--params", '{"style": "x"}'
    )
    assert refused.returncode == 5, refused.stderr
    assert "the app answered 422: style: Input should be" in refused.stderr
    missing = run_in(batch_project, "try-batch-try", str(tmp_path / "nothing"), "--no-prepare")
    assert missing.returncode == 6 and "not found" in missing.stderr
    assert "Traceback" not in refused.stderr + missing.stderr
