"""The client for a live-runner session on a go-livepeer orchestrator: it reserves a session,
streams a video file (or a synthetic clip) through it in real time, and saves what comes back.

    <name>-session INPUT OUTPUT --runner LABEL [--params JSON] [--params-at SECONDS=JSON]...
    <name>-session --sample out.mp4 --runner LABEL        # a synthetic clip, no video needed
    ai-runner-kit session ...                             # the same, from any environment

`cli.main` is the command; `run.run_session` does one whole run (run.py says how, step by
step). It needs av, httpx and the standard library only.
"""
