"""`ai-runner-kit` in this process (ai_runner_kit.cli.main): usage, errors and where each command
goes, with the commands themselves replaced by recorders. The commands' own runs are in
test_cli_end_to_end.py."""

import json

import jsonschema
import pytest
from ai_runner_kit import __version__, cli, commands, serve
from ai_runner_kit.live.session import cli as session_cli
from ai_runner_kit.specs import BatchSpec
from runner.live.pipelines import PipelineSpec
from upstream_fixture import BATCH_CLASS, FOLDER, LIVE_SPEC

NEEDS_SPEC = ["try", "bench", "live-runner", "params-schema"]


@pytest.fixture
def calls(monkeypatch) -> list[tuple]:
    """Each command the CLI hands over to, as (name, spec, arguments, prog); each returns 0."""
    made: list[tuple] = []

    def recorder(name):
        return lambda spec, argv, prog: made.append((name, spec, list(argv), prog)) or 0

    monkeypatch.setattr(commands, "run_bench", recorder("bench"))
    monkeypatch.setattr(commands, "run_try", recorder("try"))
    monkeypatch.setattr(
        serve, "main", lambda spec, prog, argv: made.append(("serve", spec, list(argv), prog)) or 0
    )
    monkeypatch.setattr(
        session_cli,
        "main",
        lambda argv, prog: made.append(("session", None, list(argv), prog)) or 0,
    )
    return made


@pytest.fixture
def upstream(monkeypatch):
    monkeypatch.syspath_prepend(str(FOLDER))


def error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_no_arguments_print_the_usage_on_stderr_and_exit_2(capsys, calls):
    assert cli.main([]) == 2
    shown = capsys.readouterr()
    assert shown.out == "" and shown.err.startswith("usage: ai-runner-kit COMMAND --spec SPEC")
    assert calls == []


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command_and_the_spec_forms(capsys, flag):
    assert cli.main([flag]) == 0
    shown = capsys.readouterr().out
    for command in [*NEEDS_SPEC, "session"]:
        assert f"\n  {command} " in shown
    assert (
        "noop" in shown
        and "module:attribute" in shown
        and "runner.live.pipelines.noop:Noop" in shown
    )


def test_version_is_the_installed_distributions(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"ai-runner-kit {__version__}\n"


def test_an_unknown_command_names_the_commands(capsys, calls):
    assert cli.main(["benchmark", "--spec", "noop"]) == 2
    message = error_line(capsys)
    assert message.startswith("ai-runner-kit: error: unknown command 'benchmark'")
    assert "try, bench, live-runner, session, params-schema" in message
    assert calls == []


@pytest.mark.parametrize("command", NEEDS_SPEC)
@pytest.mark.parametrize("spec", [[], ["--spec"], ["--spec="]], ids=["absent", "no-value", "empty"])
def test_a_command_without_a_spec_says_what_a_spec_is(capsys, calls, command, spec):
    assert cli.main([command, "--json", *spec]) == 2
    message = error_line(capsys)
    assert f"error: {command} needs --spec SPEC" in message and cli.SPEC_HELP in message
    assert calls == []


def test_spec_is_taken_out_wherever_it_is_and_the_rest_goes_on_in_order(calls):
    assert cli.main(["bench", "--json", "--spec", "noop", "--frames", "3"]) == 0
    noop = PipelineSpec(name="noop", pipeline_cls="runner.live.pipelines.noop:Noop")
    assert calls == [("bench", noop, ["--json", "--frames", "3"], "ai-runner-kit bench")]


def test_the_equals_form_names_the_same_spec(calls):
    assert cli.main(["try", "--sample", "--spec=noop"]) == 0
    assert cli.main(["try", "--sample", "--spec", "noop"]) == 0
    (_, by_equals, rest, prog), (_, by_space, _, _) = calls
    assert by_equals == by_space and by_equals.name == "noop"
    assert (rest, prog) == (["--sample"], "ai-runner-kit try")


def test_a_spec_that_names_nothing_is_a_usage_error_with_the_reason(capsys, calls):
    assert cli.main(["bench", "--spec", "sepia"]) == 2
    assert "'sepia' is not one of ai-runner's builtin pipelines" in error_line(capsys)
    assert calls == []


def test_live_runner_serves_a_live_spec_as_a_live_runner(calls):
    assert cli.main(["live-runner", "--spec", "noop", "--port-check"]) == 0
    [(name, spec, argv, prog)] = calls
    assert (name, spec.name, prog) == ("serve", "noop", "ai-runner-kit live-runner")
    assert argv == ["--live-runner", "--port-check"]


def test_live_runner_refuses_a_batch_pipeline(capsys, calls, upstream):
    assert cli.main(["live-runner", "--spec", BATCH_CLASS]) == 2
    message = error_line(capsys)
    assert f"{BATCH_CLASS} is a batch pipeline" in message and "live pipelines" in message
    assert calls == []


def test_session_needs_no_spec_and_gets_every_other_argument(calls):
    assert cli.main(["session", "--sample", "out.mp4", "--runner", "r1"]) == 0
    assert calls == [("session", None, ["--sample", "out.mp4", "--runner", "r1"],
                      "ai-runner-kit session")]  # fmt: skip


def test_a_batch_spec_goes_to_the_same_commands(calls, upstream):
    assert cli.main(["try", "--spec", BATCH_CLASS, "--sample"]) == 0
    [(name, spec, _, _)] = calls
    assert name == "try" and isinstance(spec, BatchSpec)


def schema_printed(capsys, spec: str) -> dict:
    assert cli.main(["params-schema", "--spec", spec]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_params_schema_of_a_builtin_is_ai_runners_base_params(capsys):
    schema = schema_printed(capsys, "noop")
    assert set(schema["properties"]) == {"width", "height", "show_reloading_frame"}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"width": 512, "height": 384})
    assert not validator.is_valid({"width": 500})  # not a multiple of 64


def test_params_schema_of_an_upstream_spec_is_its_params_class(capsys, upstream):
    schema = schema_printed(capsys, LIVE_SPEC)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"strength": 0.5})
    assert not validator.is_valid({"strength": 1.5})


def test_params_schema_of_a_batch_class_without_params_is_an_empty_object(capsys, upstream):
    assert schema_printed(capsys, BATCH_CLASS) == {"type": "object", "properties": {}}


def test_an_option_after_spec_is_not_taken_for_its_value(capsys, calls):
    assert cli.main(["bench", "--spec", "--json"]) == 2
    assert "needs --spec SPEC" in capsys.readouterr().err
    assert calls == []
