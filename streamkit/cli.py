"""The ``streamkit`` command: run, check, explain and draw networks; warm the kernel cache; run the benchmarks.

Exit codes: 0 done; 1 failed records present (``run --fail-on-errors``);
2 a bad config, input or option; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from streamkit.errors import StreamkitError

__all__ = ("main", "cli", "EXIT_OK", "EXIT_FAILED_RECORDS", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED")

EXIT_OK = 0
#: ``run --fail-on-errors`` and some records failed
EXIT_FAILED_RECORDS = 1
#: a bad config, input file or option
EXIT_BAD_INPUT = 2
#: stopped by Ctrl-C (128 + SIGINT)
EXIT_INTERRUPTED = 130

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _network(config: str, *, allow_python: bool) -> Any:
    """The compiled network of ``config``; exit 2 with the problems when it is not valid (or, in safe mode,
    needs inline Python)."""
    from streamkit.api import SimpleFSM

    if not Path(config).exists():
        _fail(f"no config file {config!r}")
    try:
        return SimpleFSM(config, allow_python=allow_python)
    except StreamkitError as exc:
        text = str(exc)
        if not allow_python and "allow_python" in text:
            text += "\n(the command line runs only the compiled subset unless given --allow-python)"
        _fail(text)


@click.group(context_settings=_CONTEXT)
@click.version_option(package_name="streamkit", message="streamkit %(version)s")
def cli() -> None:
    """streamkit: stream records through compiled FSM networks on Apache Arrow."""


@cli.command(context_settings=_CONTEXT, short_help="Stream a source through a network into sinks.")
@click.argument("config")
@click.option("--source", "sources", multiple=True, required=True, help="Input file or glob (repeatable).")
@click.option("--sink", help="Where every end state's records go (format by suffix).")
@click.option("--sinks", "end_sinks", multiple=True, metavar="END=PATH", help="One end state's sink (repeatable).")
@click.option("--error-sink", help="Where failed records go (default: <sink>.errors.jsonl).")
@click.option("--parallelism", type=click.IntRange(min=1), help="Worker threads (default: usable cores).")
@click.option("--memory-limit-mb", type=click.FloatRange(min=1), help="Bytes in flight at most, in MB.")
@click.option("--chunk-size", type=click.IntRange(min=1), help="Records per chunk.")
@click.option("--format", "source_format", help="Input format if the suffix does not say: jsonl, csv, parquet, ipc.")
@click.option(
    "--sink-format", help="Output format if the suffix does not say (a directory sink's parts: jsonl default)."
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    help="Commit progress to this file; after a kill, the same command resumes where it stopped.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local threads, or Ray tasks (pip install 'streamkit[ray]'; RAY_ADDRESS names a cluster).",
)
@click.option("--allow-python", is_flag=True, help="Run inline code outside the compiled subset as Python.")
@click.option("--fail-on-errors", is_flag=True, help="Exit 1 when any record failed.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (JSON) on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
def run(
    config: str,
    sources: tuple[str, ...],
    sink: str | None,
    end_sinks: tuple[str, ...],
    error_sink: str | None,
    parallelism: int | None,
    memory_limit_mb: float | None,
    chunk_size: int | None,
    source_format: str | None,
    sink_format: str | None,
    checkpoint: str | None,
    engine: str,
    allow_python: bool,  # noqa: FBT001 - a click flag
    fail_on_errors: bool,  # noqa: FBT001
    as_json: bool,  # noqa: FBT001
    quiet: bool,  # noqa: FBT001
) -> None:
    """Stream --source through the network of CONFIG into the sinks.

    Inline code outside the compiled subset is refused unless --allow-python.
    A bar shows progress on a terminal, plain lines otherwise. Ctrl-C stops
    within seconds and removes partial output files; with --checkpoint the
    same command resumes instead. A sink path ending with / is a directory
    of numbered parts.
    """
    fsm = _network(config, allow_python=allow_python)
    sinks = {}
    for item in end_sinks:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            _fail(f"--sinks takes END=PATH, got {item!r}")
        if name not in fsm.end_states:
            _fail(f"--sinks {item!r}: no end state {name!r} (end states: {', '.join(fsm.end_states)})")
        sinks[name] = path
    options: dict[str, Any] = {
        "sinks": sinks or None,
        "parallelism": parallelism,
        "memory_limit_mb": memory_limit_mb,
        "chunk_size": chunk_size,
        "format": source_format,
        "sink_format": sink_format,
        "engine": engine,
    }
    if checkpoint is not None:
        options["checkpoint"] = checkpoint
    if error_sink is not None:
        options["error_sink"] = error_sink
    if not quiet:
        options["progress"] = True if sys.stderr.isatty() else "lines"
    if sink is None and not sinks:
        if checkpoint is not None:
            _fail("--checkpoint resumes runs that write files: give --sink (or --sinks for every end state)")
        options["keep_end_state_ids"] = False
        out: Any = _discard  # counts only
    else:
        out = sink
    source: Any = list(sources) if len(sources) > 1 else sources[0]
    t0 = time.perf_counter()
    try:
        result = fsm.process_stream(source, out, **options)
    except KeyboardInterrupt:
        outputs = [p for p in [sink, *sinks.values(), error_sink] if p]
        kept = "no output file was written: partial files were removed" if outputs else "no output was kept"
        if checkpoint is not None:
            kept = f"the checkpoint {checkpoint!r} is kept: run the same command again to resume"
        click.echo(f"\ninterrupted after {time.perf_counter() - t0:.1f} s; {kept}", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # chunks still computing in worker threads write nothing more (the sinks are closed): do not wait
        # for them to finish before exiting
        os._exit(EXIT_INTERRUPTED)
    except (StreamkitError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        _fail(str(exc))
    except (TypeError, ValueError, ImportError) as exc:  # options that do not go together, Ray missing
        if checkpoint is None and engine == "local":
            raise
        _fail(str(exc))
    summary = {**result.to_dict(), "outputs": dict(result.paths)}
    if as_json:
        click.echo(json.dumps(summary, default=str))
    else:
        _print_summary(result)
    if fail_on_errors and result.failed:
        sys.exit(EXIT_FAILED_RECORDS)


def _discard(batch: Any) -> None:
    """A sink that keeps nothing (``run`` without a sink counts only)."""


def _print_summary(result: Any) -> None:
    counts = ", ".join(f"{k} {v:,}" for k, v in result.end_state_counts.items())
    click.echo(
        f"{result.total_records:,} records in {result.duration:.2f} s ({result.records_per_second:,.0f} rec/s): "
        f"{counts}; failed {result.failed:,}"
    )
    for name, path in result.paths.items():
        click.echo(f"  {name}: {path}")


@cli.command(context_settings=_CONTEXT, short_help="Check a config; list every problem.")
@click.argument("config")
@click.option("--allow-python", is_flag=True, help="Accept inline code outside the compiled subset.")
def validate(config: str, allow_python: bool) -> None:  # noqa: FBT001 - a click flag
    """Check CONFIG: every problem with its path, or a one-line summary."""
    fsm = _network(config, allow_python=allow_python)
    nets = fsm.config.networks
    states = sum(len(n.states) for n in nets)
    arcs = sum(len(n.arcs) for n in nets)
    ends = ", ".join(fsm.end_states)
    click.echo(
        f"ok: {fsm.config.name or config}: {len(nets)} network(s), {states} states, {arcs} arcs; end states {ends}"
    )


@cli.command(context_settings=_CONTEXT, short_help="Show how each state runs, and why.")
@click.argument("config")
def explain(config: str) -> None:
    """Show how each state of CONFIG runs (numba kernel, arrow, python or event) and why."""
    click.echo(_network(config, allow_python=True).explain())


@cli.command(context_settings=_CONTEXT, short_help="Draw a network: Mermaid, DOT or SVG.")
@click.argument("config")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def graph(config: str, fmt: str, output: str | None) -> None:
    """Draw the network of CONFIG as Mermaid, DOT or SVG (no graphviz needed)."""
    fsm = _network(config, allow_python=True)
    text = {"mermaid": fsm.to_mermaid, "dot": fsm.to_dot, "svg": fsm.to_svg}[fmt]()
    if output is None:
        click.echo(text)
    else:
        Path(output).write_text(text, encoding="utf-8")


@cli.command(context_settings=_CONTEXT, short_help="Compile kernels into the cache ahead of runs.")
@click.argument("configs", nargs=-1)
@click.option("--sample", "samples", multiple=True, metavar="DATA", help="Sample data for the CONFIG in that place.")
def warm(configs: tuple[str, ...], samples: tuple[str, ...]) -> None:
    """Compile streamkit's kernels (and each CONFIG's, for its sample data) into the cache."""
    from streamkit.warm import warm as warm_kernels

    for c in configs:
        if not Path(c).exists():
            _fail(f"no config file {c!r}")
    click.echo(warm_kernels(list(configs), list(samples)))


@cli.command(
    context_settings={**_CONTEXT, "ignore_unknown_options": True, "allow_extra_args": True},
    short_help="Run the benchmark suite.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Run the benchmark suite (from a source checkout); ARGS go to it (try: bench -- --help)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "suite.py").exists():
        _fail("the benchmark suite ships with the source tree: run `streamkit bench` from a clone of streamkit")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.suite import main as suite_main  # type: ignore[import-not-found,unused-ignore]

    sys.exit(suite_main(list(args)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: the process's); the exit code."""
    try:
        cli.main(args=None if argv is None else list(argv), prog_name="streamkit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_BAD_INPUT
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_BAD_INPUT
    return EXIT_OK
