"""``python -m streamkit warm [CONFIG ...] [--sample DATA ...]``: compile kernels ahead of the first run."""

from __future__ import annotations

import argparse
import sys

from streamkit.warm import warm

__all__ = ("main",)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m streamkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("warm", help="compile streamkit's kernels (and each CONFIG's, for its sample data)")
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="a network config (YAML or JSON)")
    p.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="DATA",
        help="data for the CONFIG in the same position (a JSONL, CSV, Parquet or IPC file)",
    )
    args = parser.parse_args(argv)
    report = warm(args.configs, args.sample)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
