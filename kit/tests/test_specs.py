"""`--spec` resolution (ai_runner_kit.specs.resolve_spec): each form it takes, and a SpecError
that says what to give for each it refuses. Fake modules stand in for a pipeline project's; the
upstream-shaped fixture (tests/fixtures/upstream_pipeline) checks the class-path forms."""

import re
import sys
import types

import pytest
from ai_runner_kit.specs import BatchSpec, SpecError, resolve_spec
from runner.live.pipelines import BaseParams, PipelineSpec
from upstream_fixture import BATCH_CLASS, FOLDER, LIVE_CLASS, LIVE_SPEC

# What every refusal's message must offer, in some words: the forms a SPEC takes.
WHAT_TO_GIVE = ("PipelineSpec", "noop")


@pytest.fixture
def fake_project(monkeypatch) -> types.ModuleType:
    """A pipeline project's main module, importable as `fake_project.main`."""
    package, main = types.ModuleType("fake_project"), types.ModuleType("fake_project.main")
    main.live_spec = PipelineSpec(name="fake-live", pipeline_cls="fake_project.main:Live")
    main.batch_spec = BatchSpec(name="fake-batch", pipeline_cls="fake_project.main:Batch")
    main.settings = types.SimpleNamespace(spec=main.live_spec)  # a dotted attribute
    main.not_a_spec = 42
    main.NotAPipeline = type("NotAPipeline", (), {})
    package.main = main
    monkeypatch.setitem(sys.modules, "fake_project", package)
    monkeypatch.setitem(sys.modules, "fake_project.main", main)
    return main


@pytest.fixture
def upstream(monkeypatch):
    monkeypatch.syspath_prepend(str(FOLDER))


def test_a_builtin_name_is_ai_runners_own_spec():
    spec = resolve_spec("noop")
    assert isinstance(spec, PipelineSpec)
    assert (spec.name, spec.pipeline_cls) == ("noop", "runner.live.pipelines.noop:Noop")


def test_module_attribute_gives_the_spec_object_itself(fake_project):
    assert resolve_spec("fake_project.main:live_spec") is fake_project.live_spec
    assert resolve_spec("fake_project.main:batch_spec") is fake_project.batch_spec
    assert resolve_spec("fake_project.main:settings.spec") is fake_project.live_spec


def test_the_upstream_pipelines_own_spec_keeps_its_params_class(upstream):
    spec = resolve_spec(LIVE_SPEC)
    assert isinstance(spec, PipelineSpec)
    assert spec.name == "sepia-upstream"
    assert spec.params_cls == "sepia_upstream.params:SepiaParams"


def test_a_live_class_path_gets_ai_runners_defaults(upstream):
    spec = resolve_spec(LIVE_CLASS)
    # What PipelineSpec(pipeline_cls=...) gives in ai-runner: the name from the class
    # (lowercased, "pipeline" dropped), no params class, no initial params.
    assert spec == PipelineSpec(pipeline_cls=LIVE_CLASS)
    assert (spec.name, spec.params_cls, spec.initial_params) == ("sepia", None, {})


def test_ai_runners_noop_class_path_is_the_builtin_without_its_name():
    assert resolve_spec("runner.live.pipelines.noop:Noop") == PipelineSpec(
        pipeline_cls="runner.live.pipelines.noop:Noop"
    )


def test_a_batch_class_path_gets_a_batch_spec_named_after_the_class(upstream):
    spec = resolve_spec(BATCH_CLASS)
    assert spec == BatchSpec(name="sepiabatch", pipeline_cls=BATCH_CLASS, params_cls=None)


def test_an_unknown_builtin_lists_the_forms_a_spec_takes():
    with pytest.raises(SpecError) as refused:
        resolve_spec("sepia")
    message = str(refused.value)
    assert "'sepia'" in message and "builtin" in message
    assert all(form in message for form in WHAT_TO_GIVE), message


def test_an_unimportable_module_says_which_and_why(fake_project):
    with pytest.raises(SpecError) as refused:
        resolve_spec("no_such_project.main:pipeline_spec")
    message = str(refused.value)
    assert "no_such_project.main:pipeline_spec" in message
    assert "No module named 'no_such_project'" in message


def test_a_missing_attribute_says_which(fake_project):
    with pytest.raises(SpecError, match=re.escape("fake_project.main:no_spec_here")):
        resolve_spec("fake_project.main:no_spec_here")


def test_an_object_that_is_no_spec_says_what_to_give(fake_project):
    with pytest.raises(SpecError) as refused:
        resolve_spec("fake_project.main:not_a_spec")
    message = str(refused.value)
    assert "fake_project.main:not_a_spec" in message and "int" in message
    assert "PipelineSpec" in message and "Pipeline class" in message


def test_a_class_that_is_no_pipeline_says_a_pipeline_class_is_wanted(fake_project):
    fake_project.Params = BaseParams  # a class ai-runner knows, but not a Pipeline
    with pytest.raises(SpecError) as refused:
        resolve_spec("fake_project.main:Params")
    message = str(refused.value)
    assert "fake_project.main:Params" in message and "Pipeline class" in message


def test_an_unimportable_module_says_how_to_make_it_importable():
    with pytest.raises(SpecError) as refused:
        resolve_spec("no_such_project.main:pipeline_spec")
    assert "PYTHONPATH" in str(refused.value) or "install" in str(refused.value)


@pytest.mark.parametrize("text", [":pipeline_spec", ".relative:pipeline_spec"])
def test_a_spec_without_an_absolute_module_is_a_spec_error(text):
    with pytest.raises(SpecError, match="module"):
        resolve_spec(text)
