"""`reti lab`: the notes you can touch, a local web app on reti's engine.

reti lab                       # http://127.0.0.1:8765/?token=..., writes under runs/lab/
reti lab --port 9000 --open    # and opens a browser
reti lab --host 0.0.0.0        # reachable from other machines (always with a token)
reti lab --no-token            # this machine only, no token (any local user can then drive it)

As Jupyter does, the lab generates a token each start and prints the address that carries it;
the page keeps it in a cookie. The port is bound before anything else starts, so a busy or
forbidden port is one error line and no job is touched.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import secrets
import socket
import sys
import webbrowser

from reti.errors import ConfigError

LOCAL = ("127.0.0.1", "localhost", "::1")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port must be in 1..65535, got {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be in 1..1000000, got {value}")
    return value


def address(host: str, port: int, token: str | None) -> str:
    """The URL to open (with ``?token=`` when one is needed)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or one ``ConfigError`` saying why not (in use,
    not allowed, no such address) and what to try."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} is in use (try --port {port + 1})") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ConfigError(
                f"port {port} may not be bound by this user (ports below 1024 need root; "
                f"try --port 8765)"
            ) from None
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except (socket.gaierror, UnicodeError) as exc:
        sock.close()
        raise ConfigError(f"--host {host!r} is not an address of this machine ({exc})") from None
    sock.setblocking(False)
    return sock


def run(args: argparse.Namespace) -> int:
    missing = [m for m in ("starlette", "uvicorn", "multipart") if not importlib.util.find_spec(m)]
    if missing:
        raise ConfigError("reti lab needs the lab extra: pip install 'reti[lab]'")
    import uvicorn

    from reti.lab.app import Limits, create_app

    token = args.token
    if args.no_token and args.host not in LOCAL:
        raise ConfigError(f"--no-token is for this machine only; --host {args.host} needs a token")
    if token is None and not args.no_token:
        token = secrets.token_urlsafe(16)
    if token is not None and len(token) < 8:
        raise ConfigError(f"--token must be at least 8 characters, got {len(token)}")
    sock = bind(args.host, args.port)  # before the app: a busy port touches no job
    try:
        limits = Limits(keep_jobs=args.keep_jobs, queue=args.queue)
        app = create_app(args.data_dir, token=token, limits=limits, host=args.host)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot write the lab folder {args.data_dir}: {exc.strerror}") from None
    url = address(args.host, args.port, token)
    print(f"reti lab: serving {url} (writing under {args.data_dir}); Ctrl-C stops it", flush=True)
    if args.open:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``lab`` subcommand."""
    parser = sub.add_parser(
        "lab",
        help="a local web app: one live page per part of the notes",
        description="Serve the lab: connectivity, CNN builder with live training, dropout and "
        "normalization, augmentation, series, text, claims; in English and Italian.",
    )
    parser.add_argument(
        "--port", type=_port, default=8765, help="The port to serve on. Default: 8765."
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="The address to bind. Default: 127.0.0.1, this machine only.",
    )
    parser.add_argument("--open", action="store_true", help="Open the page in a browser.")
    parser.add_argument(
        "--data-dir",
        default="runs/lab",
        help="The folder everything the lab writes goes to. Default: runs/lab.",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="Require this token on every request. Default: a new one each start, printed in "
        "the address to open.",
    )
    parser.add_argument(
        "--no-token",
        action="store_true",
        help="Serve without a token (only with a local --host): any program of this machine "
        "may then drive the lab; other web sites still may not.",
    )
    parser.add_argument(
        "--keep-jobs",
        type=_count,
        metavar="N",
        default=100,
        help="Finished jobs kept in the lab folder; older ones are deleted. Default: 100.",
    )
    parser.add_argument(
        "--queue",
        type=_count,
        metavar="N",
        default=8,
        help="Jobs that may wait in line; past it a submit is refused (429). Default: 8.",
    )
    parser.set_defaults(func=run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: reti lab")
