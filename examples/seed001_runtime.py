"""Seed 001's complete example (State Management in Action), as printed, after the import rewrite.

The seed's imports from ``routilux``, ``routilux.activation_policies``,
``routilux.monitoring.flow_registry`` and ``routilux.core`` are written as
``from streamkit.runtime import ...`` (SEED-APIS.md); nothing else changes.
It prints::

    [WorkerState] Cache MISS: test
    [WorkerState] Cache HIT: test
    [WorkerState] Cache MISS: other

and then, below the seed's code, what became of the three jobs.
"""

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamkit` importable however this file is started
    sys.path.insert(0, str(_ROOT))

# ----------------------------------------------------------------------------- the seed's code
import time

from streamkit.runtime import Flow, FlowRegistry, Routine, Runtime, get_current_job, immediate_policy


class DataProcessor(Routine):
    """Demonstrates both WorkerState and JobContext usage."""

    def __init__(self):
        super().__init__()
        self.add_slot("input")
        self.add_event("output")

        def process(slot_data, policy_message, worker_state):
            # === WorkerState: Persistent cache ===
            cache_state = worker_state.get_routine_state("processor") or {}
            cache = cache_state.get("cache", {})

            input_list = slot_data.get("input", [])
            if input_list:
                item = input_list[0]
                key = item.get("key")

                # Check cache
                if key in cache:
                    print(f"[WorkerState] Cache HIT: {key}")
                    result = cache[key]
                else:
                    print(f"[WorkerState] Cache MISS: {key}")
                    # Simulate expensive processing
                    time.sleep(0.1)
                    result = f"processed_{key}"
                    cache[key] = result
                    worker_state.update_routine_state(
                        "processor",
                        {
                            "cache": cache,
                            "cache_hits": cache_state.get("cache_hits", 0),
                            "cache_misses": cache_state.get("cache_misses", 0) + 1,
                        },
                    )

                # === JobContext: Job-specific tracking ===
                job = get_current_job()
                if job:
                    # Track this job's processing
                    job.set_data("processed_key", key)
                    job.set_data("result", result)

                    # Trace execution
                    job.trace(
                        "processor", "completed", {"key": key, "cache_hit": key in cache, "timestamp": time.time()}
                    )

                self.emit("output", result=result)

        self.set_logic(process)
        self.set_activation_policy(immediate_policy())


# Build flow
flow = Flow("state_demo")
flow.add_routine(DataProcessor(), "processor")
FlowRegistry.get_instance().register_by_name("state_demo", flow)

# Execute
with Runtime() as runtime:
    worker_state = runtime.exec("state_demo")

    # Job 1: First access (cache miss)
    _, job1 = runtime.post("state_demo", "processor", "input", {"key": "test"})
    time.sleep(0.2)

    # Job 2: Same key (cache hit)
    _, job2 = runtime.post("state_demo", "processor", "input", {"key": "test"})
    time.sleep(0.2)

    # Job 3: Different key (cache miss)
    _, job3 = runtime.post("state_demo", "processor", "input", {"key": "other"})
    runtime.wait_until_all_jobs_finished(timeout=5.0)

# ------------------------------------------------------------------------ what became of the jobs
print(f"jobs: {[j.status for j in (job1, job2, job3)]}, counts {runtime.job_counts()}")
print(f"job 2 data: {job2.data}, trace: {[e['action'] for e in job2.trace_log]}")
print(f"worker state: misses {worker_state.get_routine_state('processor')['cache_misses']}")
