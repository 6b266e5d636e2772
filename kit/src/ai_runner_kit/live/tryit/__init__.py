"""The `<name>-try` command: see what the pipeline does to real video, on this machine, with no
go-livepeer and no network.

    <name>-try --sample                       # a generated test clip -> try-output/sample.mp4
    <name>-try clip.mp4 --side-by-side        # input and output next to each other
    <name>-try photo.jpg  |  <name>-try photos/   # images: PNGs in try-output/<name>/
    <name>-try --camera                       # a camera, until Ctrl-C or --seconds
    <name>-try clip.mp4 --params '{"style": "noir"}' --params-at '5={"style": "toon"}'
    ai-runner-kit try --spec SPEC ...         # the same, for any ai-runner live pipeline

It drives the pipeline that the spec names as ai-runner's pipeline process does: put and
get concurrently, params through update_params, a loading overlay while a reload runs
(process_loop.py). Video plays in real time at the source's rate, at most ai-runner's 24 fps.
`cli.main` is the command and `run.run_try` one whole run.
"""
