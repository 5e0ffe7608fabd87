"""`reti lab`: the notes you can touch, a local web app on reti's engine.

reti lab                       # http://127.0.0.1:8765, writes under runs/lab/
reti lab --port 9000 --open    # and opens a browser
reti lab --host 0.0.0.0        # reachable from other machines: a token is generated and printed
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
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


def address(host: str, port: int, token: str | None) -> str:
    """The URL to open (with ``?token=`` when one is needed)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def run(args: argparse.Namespace) -> int:
    missing = [m for m in ("starlette", "uvicorn", "multipart") if not importlib.util.find_spec(m)]
    if missing:
        raise ConfigError("reti lab needs the lab extra: pip install 'reti[lab]'")
    import uvicorn

    from reti.lab.app import create_app

    token = args.token
    if args.host not in LOCAL and not token:
        token = secrets.token_urlsafe(16)
    if token is not None and len(token) < 8:
        raise ConfigError(f"--token must be at least 8 characters, got {len(token)}")
    app = create_app(args.data_dir, token=token)
    url = address(args.host, args.port, token)
    print(f"reti lab: serving {url} (writing under {args.data_dir}); Ctrl-C stops it", flush=True)
    if args.open:
        webbrowser.open(url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
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
        help="Require this token on every request; one is generated and printed when --host "
        "is not local.",
    )
    parser.set_defaults(func=run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: reti lab")
