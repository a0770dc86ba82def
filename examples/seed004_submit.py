"""Seed 004's FlowSubmission patterns, as printed, after the import rewrite.

The seed's ``flow_submitter`` and ``run_deployment`` come from ``streamkit.submit``
(SEED-APIS.md). The seed leaves its deployments undefined; they are defined
below (marked *placeholder*), with a few runs that fail and one that ends in a
``Cached`` state of type COMPLETED, which counts as a success. The seed's
patterns then run as printed; each one's log lines show on stdout::

    ✅ [process-table-etl/deployment] Run 1a2b3c4d finished with state: Completed
    ...
    Summary → 20/20 succeeded, 0 failed

``wait`` is woken by the runs' ends: the seed's ``poll_interval=10`` only paces
progress lines, so nothing here waits ten seconds.
"""

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamkit` importable however this file is started
    sys.path.insert(0, str(_ROOT))

import asyncio
import logging

from streamkit.submit import State, StateType, flow_submitter, get_run, register_deployment, run_deployment

logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
logger = logging.getLogger("seed004")


# ----------------------------------------------------------------------------- placeholders
async def process_table(table, priority="normal"):  # placeholder: an ETL step per table
    await asyncio.sleep(0.01)
    return {"table": table, "rows": 100}


def import_source(source):  # placeholder: mongodb's import fails
    if source == "mongodb":
        raise ConnectionError("mongodb unreachable")
    return {"source": source}


def extract(source):  # placeholder: the "files" extraction was cached
    if source == "files":
        return State(type=StateType.COMPLETED, name="Cached")
    return {"source": source}


register_deployment("process-table-etl/deployment", process_table)
register_deployment("data-import/deployment", import_source)
register_deployment("extract/deployment", extract)
register_deployment("transform/deployment", lambda: "transformed")
register_deployment("etl/deployment", process_table)
register_deployment("critical-etl/deployment", process_table)


# ----------------------------------------------------------------------------- the seed's code
async def pattern_1():
    etl = flow_submitter("process-table-etl/deployment")

    # Submit all 20 flows truly in parallel
    run_ids = await asyncio.gather(*[etl.submit(table=i) for i in range(20)])

    # Wait for all with custom poll interval
    results = await etl.wait(poll_interval=10)
    return run_ids, results


async def pattern_2():
    etl = flow_submitter("data-import/deployment")

    for source in ["mysql", "postgres", "mongodb"]:
        await etl.submit(source=source)

    results = await etl.wait()

    # Retry failed imports
    failed_runs = [k for k, v in results.items() if v != "Completed"]
    if failed_runs:
        logger.error(f"Retrying {len(failed_runs)} failed imports...")
        # Retry logic here
    return failed_runs


async def complex_pipeline():
    # Phase 1: Parallel extraction
    extract = flow_submitter("extract/deployment")
    await asyncio.gather(
        extract.submit(source="api"),
        extract.submit(source="database"),
        extract.submit(source="files"),
    )
    results = await extract.wait(poll_interval=3)

    # Check if extraction succeeded
    if all(v == "Completed" for v in results.values()):
        # Phase 2: Transform
        transform = flow_submitter("transform/deployment")
        await transform.submit()
        await transform.wait()
    else:
        logger.error("Extraction failed, skipping transform")
    return results


async def pattern_4():
    etl = flow_submitter("etl/deployment")

    # Submit first batch
    batch1_ids = await asyncio.gather(*[etl.submit(table=i) for i in range(10)])

    # Wait for first batch (no summary)
    await etl.wait(show_summary=False)

    # Submit second batch
    batch2_ids = await asyncio.gather(*[etl.submit(table=i) for i in range(10, 20)])

    # Wait for everything (with summary)
    all_results = await etl.wait(show_summary=True)
    # Summary → 20/20 succeeded, 0 failed
    return batch1_ids, batch2_ids, all_results


async def pattern_5():
    etl = flow_submitter("critical-etl/deployment")

    # Submit and track critical run
    critical_run_id = await etl.submit(table="users", priority="high")
    logger.info(f"Critical run started: {critical_run_id}")

    # Submit other runs
    for table in ["orders", "products", "inventory"]:
        await etl.submit(table=table)

    # Wait for all
    results = await etl.wait()

    # Check critical run specifically
    if results[critical_run_id] != "Completed":
        logger.critical(f"CRITICAL RUN FAILED: {critical_run_id}")
        # Trigger alert
    return critical_run_id, results


# ----------------------------------------------------------------------------- what became of them
async def main():
    run_ids, results = await pattern_1()
    print(f"pattern 1: {len(run_ids)} runs, states {sorted(set(results.values()))}")

    failed_runs = await pattern_2()
    sources = [get_run(r).parameters["source"] for r in failed_runs]
    print(f"pattern 2: failed {sources}, error {get_run(failed_runs[0]).error!r}")

    results = await complex_pipeline()
    print(f"pattern 3: extraction states {sorted(results.values())}")
    # the seed compares names, so the Cached success skips the transform; by type it succeeded
    print(f"pattern 3: all succeeded by type: {all(get_run(r).state.is_completed() for r in results)}")

    batch1, batch2, all_results = await pattern_4()
    print(f"pattern 4: {len(batch1)} + {len(batch2)} runs, {len(all_results)} results")

    critical, results = await pattern_5()
    print(f"pattern 5: critical run {results[critical]}, result {get_run(critical).result}")

    flow_run = await run_deployment(
        name="process-table-etl/deployment", parameters={"table": "late"}, timeout=0, schedule=True
    )
    print(f"run_deployment(timeout=0): state {flow_run.state.name} at once, finished later: {flow_run.wait(10)}")


if __name__ == "__main__":
    asyncio.run(main())
