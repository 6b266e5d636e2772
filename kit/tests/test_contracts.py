"""The contract classes (ai_runner_kit.testing) on the kit's own fake pipeline and on a pipeline
written without the kit, and the proof that they fail a pipeline that breaks the contract."""

import textwrap

from ai_runner_kit.testing import LivePipelineContract, TorchLivePipelineContract

SIZE = {"width": 384, "height": 384}


class TestTheKitsPipelineKeepsItsPromises(TorchLivePipelineContract):
    spec = "invert_pipeline.pipeline:pipeline_spec"
    params = SIZE
    reload_params = {"flavour": "warm"}  # noqa: RUF012  (a contract's documented form)


class TestAPipelineWrittenWithoutTheKitKeepsAiRunnersContract(LivePipelineContract):
    spec = "sepia_upstream.spec:pipeline_spec"
    params = SIZE


BROKEN = textwrap.dedent(
    '''
    from ai_runner_kit.testing import TorchLivePipelineContract
    from invert_pipeline.pipeline import InvertPipeline, pipeline_spec


    class NoClamp(InvertPipeline):
        """Lets NaN and values out of [0, 1] through, as a pipeline that skips the kit's
        download would."""

        def _render(self, job):
            output = super()._render(job)
            return output.replace_tensor(job[0].tensor * 7.0)


    class TestBroken(TorchLivePipelineContract):
        spec = pipeline_spec.model_copy(update={"pipeline_cls": "test_broken:NoClamp"})
        params = {"width": 384, "height": 384}
    '''
)


def test_the_contract_fails_a_pipeline_whose_output_leaves_the_range(pytester):
    pytester.makepyfile(test_broken=BROKEN)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-k", "finite")
    result.assert_outcomes(failed=5)
