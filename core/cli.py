"""The conventions every snn2fpga command keeps: exit codes, one-line errors on stderr, `--debug`.

Each stage declares its commands as `Command` records (name, help, arguments, run); the
`snn2fpga` console script gathers them, and `python train/run.py` runs one alone.
Exit 0 on success, 2 on a user error (bad argument, missing or unreadable file,
unsupported model: the project's errors are `ValueError`s), 1 on an internal failure.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, Optional

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C
USER_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


class CheckFailed(Exception):
    """A run that worked but whose check failed (mismatches, timing not met): exit 1 with this line."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line help, how to declare its arguments, and what it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Optional[int]]


class Parser(argparse.ArgumentParser):
    """argparse with the project's error style: one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    return _int_at_least(text, 1)


def natural_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be ≥ {low}, got {value}")
    return value


def fraction(text: str) -> float:
    """argparse type: a probability in [0, 1)."""
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _number(text)
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def add_debug(parser: argparse.ArgumentParser, default: object = False) -> None:
    parser.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")


def build_parser(commands: Sequence[Command], prog: str, description: str) -> Parser:
    """The parser of `prog COMMAND …` with one subparser per command."""
    parser = Parser(prog=prog, description=description)
    add_debug(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for cmd in commands:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        add_debug(p, default=argparse.SUPPRESS)  # the top-level --debug stays when this one is absent
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main_of(commands: Sequence[Command], argv: Optional[Sequence[str]], prog: str, description: str) -> int:
    """Parse `argv`, run the chosen command, and turn what it raises into an exit code and one line."""
    args = _parse(build_parser(commands, prog, description), argv)
    if isinstance(args, int):
        return args
    return invoke(args._run, args, f"{prog} {args.command}")


def run_alone(cmd: Command, argv: Optional[Sequence[str]], prog: str) -> int:
    """Run one command as its own program (e.g. `python train/run.py`)."""
    parser = Parser(prog=prog, description=cmd.help, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_debug(parser)
    cmd.add_arguments(parser)
    args = _parse(parser, argv)
    return args if isinstance(args, int) else invoke(cmd.run, args, prog)


def _parse(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code argparse asked for (--help: 0, a bad argument: 2)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE


def invoke(run: Callable[[argparse.Namespace], Optional[int]], args: argparse.Namespace, prog: str) -> int:
    """Run; map errors to exit codes with one line on stderr (the traceback too with --debug)."""
    try:
        return int(run(args) or EXIT_OK)
    except KeyboardInterrupt as exc:
        print(f"{prog}: interrupted{': ' + str(exc) if str(exc) else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CheckFailed as exc:
        return _fail(prog, args, exc, "failed", EXIT_FAILURE)
    except USER_ERRORS as exc:
        return _fail(prog, args, exc, "error", EXIT_USAGE)
    except Exception as exc:  # a bug or a tool that broke: still one line unless --debug
        return _fail(prog, args, exc, f"internal error ({type(exc).__name__})", EXIT_FAILURE)


def _fail(prog: str, args: argparse.Namespace, exc: BaseException, kind: str, code: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"{prog}: {kind}: {one_line(exc)}", file=sys.stderr)
    return code


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (details such as tables stay in the reports)."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return first if first == text else f"{first} …"
