"""`dltui serve`: the live UI in a web browser, through textual-serve; each browser tab gets a run.

textual-serve starts a command per browser tab (through the shell) with `TEXTUAL_DRIVER` naming
Textual's web driver, and relays its output to xterm.js in the page. The command here is
`python -m dltui run TARGET ...` with the very run options `serve` was given, so a tab's run is
the one the terminal would show. The options are checked once, up front: a mistake is one line
and exit 2 on the command line, not an error in every tab.

This module is a launcher like cli.py (neither side of the pipe): the checks import the engine
(and torch) in the serving process; the tabs' UIs and engines are processes of their own.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import shlex
import socket
import sys

from dltui.scenario.params import UsageError

WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
"""What textual-serve sets `TEXTUAL_DRIVER` to in the processes it starts."""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
NOT_SERVED = {"help", "target", "headless", "jsonl", "every", "screenshot", "size"}
"""`dltui run` options that make no sense in a browser; every other one is served as given."""


def under_textual_serve(environ: dict[str, str] | None = None) -> bool:
    """True in a process textual-serve started: its UI goes to the browser, not a tty."""
    import os

    return (os.environ if environ is None else environ).get("TEXTUAL_DRIVER") == WEB_DRIVER


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def add_parser(sub: argparse._SubParsersAction, run: argparse.ArgumentParser) -> None:
    """`dltui serve TARGET [run options] [--host H] [--port P]`: run's options are shared with
    `run` itself (the same argparse actions), so an option added to `run` is served too."""
    serve = sub.add_parser(
        "serve",
        help="serve the live UI to web browsers (a run per tab) with textual-serve",
        allow_abbrev=False,  # the run options are passed on as typed; no --ho for --host
    )
    serve.add_argument("target", help="scenario name or path/to/file.py[:Class]")
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; "
        "0.0.0.0 opens it to the network)",
    )
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    for action in run._actions:
        if action.dest not in NOT_SERVED:
            serve._add_action(action)  # what argparse's parents= does


def run_arguments(argv: list[str]) -> list[str]:
    """The `dltui run` arguments for a `dltui ... serve ...` command line: everything after
    `serve` as typed, but --host and --port."""
    tokens = argv[argv.index("serve") + 1 :]
    kept: list[str] = []
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
        elif token == "--":
            kept += tokens[i:]
            break
        elif token in ("--host", "--port"):
            skip = True
        elif not token.startswith(("--host=", "--port=")):
            kept.append(token)
    return kept


def served_command(arguments: list[str]) -> str:
    """The shell command textual-serve runs for each tab (this Python, so this venv)."""
    return shlex.join([sys.executable, "-m", "dltui", "run", *arguments])


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may well be reachable from the network


def check_run(arguments: list[str]) -> None:
    """What a tab's `dltui run` would refuse, refused here: UsageError on the first mistake."""
    from dltui.cli import build_parser

    args = build_parser().parse_args(["run", *arguments])
    from dltui.engine.runner import resolve_device
    from dltui.engine.timetravel import parse_at
    from dltui.registry import load
    from dltui.scenario.params import Params

    cls = load(args.target)
    params = Params(cls.params)
    for assignment in args.sets:
        params.set_text(assignment)
    resolve_device(args.device, cls.prefers_gpu)
    parse_at(tuple(args.at), params, args.steps or 2**62)  # the run's length needs its setup()


def check_listen(host: str, port: int) -> None:
    """Bind (and let go of) what the server will bind, so a busy port is one line, not a
    traceback from inside aiohttp."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
            try:
                probe.bind(address)
            except OSError as exc:
                raise UsageError(
                    f"cannot listen on {host}:{port}: {exc.strerror}; "
                    "is something else on that port? choose another with --port"
                ) from None


def cmd_serve(args: argparse.Namespace, argv: list[str]) -> int:
    arguments = run_arguments(argv)
    check_run(arguments)
    check_listen(args.host, args.port)
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UsageError(
            "dltui serve needs textual-serve: python -m pip install textual-serve"
        ) from None
    if not is_loopback(args.host):
        print(
            f"dltui: warning: serving on {args.host}:{args.port}: anyone who can reach this "
            "machine on the network can open it and run training on it",
            file=sys.stderr,
        )

    class DltuiServer(Server):
        def initialize_logging(self) -> None:  # not a line per request: warnings and errors
            super().initialize_logging()
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
            logging.getLogger("textual-serve").setLevel(logging.WARNING)

        async def on_startup(self, app) -> None:  # one line instead of a banner
            url = f"http://{'localhost' if is_loopback(args.host) else args.host}:{args.port}"
            print(
                f"dltui serve: open {url} (each browser tab runs its own {args.target}); "
                "ctrl+c stops",
                flush=True,
            )

        async def handle_index(self, request):
            # The page's websocket goes back to the address the browser used, so it works
            # through `ssh -L 9000:localhost:8000` and on 0.0.0.0 alike. (No await between
            # this and its use in the page's template: no other request sees it.)
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    DltuiServer(
        served_command(arguments),
        host=args.host,
        port=args.port,
        title=f"dltui {args.target}",
    ).serve()
    return 0
