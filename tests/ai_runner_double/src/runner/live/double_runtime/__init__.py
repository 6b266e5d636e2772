"""The live runtime of the ai-runner v0.14.1 offline double (double-only module names).

ai-runner splits a live pipeline over three processes (API, infer, pipeline). The double
keeps two: the API process, where `service.LiveStreamService` runs the trickle streams and
the health monitor on a background asyncio loop, and a spawned pipeline process
(`pipeline_loops`) where every Pipeline method runs on one asyncio loop. Behaviour follows
ai-runner's infer and pipeline processes; the module layout is the double's own, so none of
these names exist upstream.
"""
