"""Submitting runs and waiting for them (seed 004).

Register something to run under a name (:func:`register_deployment`: a Python
callable, a runtime flow, or a seed 002 network), then start runs of it
(:func:`run_deployment`, or :func:`flow_submitter` for many) and wait for them.
Every run is a :class:`~streamkit.RunHandle` with the seed's :class:`State`;
finality and success go by the state's :class:`StateType`, never its name.

Examples
--------
>>> import asyncio
>>> from streamkit.submit import flow_submitter, register_deployment
>>> _ = register_deployment("docs/square", lambda x: x * x)
>>> async def main():
...     sub = flow_submitter("docs/square")
...     ids = await asyncio.gather(*[sub.submit(x=i) for i in range(3)])
...     results = await sub.wait(show_summary=False)
...     return [results[i] for i in ids], [get_run(i).result for i in ids]
>>> from streamkit.submit import get_run
>>> asyncio.run(main())
(['Completed', 'Completed', 'Completed'], [0, 1, 4])
"""

from streamkit.submit.deployments import Deployment as Deployment
from streamkit.submit.deployments import get_deployment as get_deployment
from streamkit.submit.deployments import list_deployments as list_deployments
from streamkit.submit.deployments import register_deployment as register_deployment
from streamkit.submit.deployments import run_deployment as run_deployment
from streamkit.submit.runs import FlowRun as FlowRun
from streamkit.submit.runs import get_run as get_run
from streamkit.submit.states import State as State
from streamkit.submit.states import StateType as StateType
from streamkit.submit.submission import FlowSubmission as FlowSubmission
from streamkit.submit.submission import flow_submitter as flow_submitter

__all__ = (
    "flow_submitter",
    "FlowSubmission",
    "register_deployment",
    "run_deployment",
    "get_run",
    "get_deployment",
    "list_deployments",
    "Deployment",
    "FlowRun",
    "State",
    "StateType",
)
