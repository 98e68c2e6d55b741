"""`python -m jira_sim`: serve a deterministic Jira Cloud tenant over HTTP(S).

Prints exactly one line, `listening on http://HOST:PORT` (or https), once the socket accepts connections;
`--port 0` picks a free port and prints the real one.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m jira_sim",
                                description="A faithful Jira Cloud simulator (REST v2, Agile 1.0, Software 1.0).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1, help="the tenant is a pure function of seed and scale")
    p.add_argument("--scale", choices=("demo", "standard", "large"), default="demo",
                   help="demo: 7 projects (5 live, 1 archived, 1 in the trash), 300 issues; "
                        "standard: 20 live projects, 10,000 issues; large: 100,000 issues")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    p.add_argument("--request-log", default=None, help="append one JSON line per request to FILE")
    p.add_argument("--certfile", default=None, help="TLS certificate (PEM); serve https with --keyfile")
    p.add_argument("--keyfile", default=None, help="TLS private key (PEM)")
    p.add_argument("--non-admin", action="store_true", help="the identity is not a Jira administrator")
    p.add_argument("--premium", action="store_true", help="a Premium site: priority schemes are available")
    p.add_argument("--no-software", action="store_true", help="a site without Jira Software (no agile APIs)")
    p.add_argument("--oauth-token-seconds", type=float, default=3600.0,
                   help="lifetime of the OAuth 2.0 access tokens POST /oauth/token issues (default 3600)")
    try:
        from .faults import add_fault_arguments
        add_fault_arguments(p)
    except ImportError:
        pass
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        print("--certfile and --keyfile go together", file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    scheme = "https" if args.certfile else "http"
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base_url = f"{scheme}://{shown_host}:{port}"

    app, sim = create_app(args.seed, args.scale, base_url, admin=not args.non_admin, premium=args.premium,
                          software=not args.no_software, oauth_token_seconds=args.oauth_token_seconds)
    outer = app
    faults = None
    try:
        from .faults import FaultMiddleware, fault_config_from_args
        faults = FaultMiddleware(app, fault_config_from_args(args), request_log=args.request_log, seed=args.seed)
        sim.faults = faults
        outer = faults
    except ImportError:
        print("warning: jira_sim.faults is missing; serving without faults or request log",
              file=sys.stderr)

    config = uvicorn.Config(outer, log_level="warning", access_log=False, lifespan="off",
                            ssl_certfile=args.certfile, ssl_keyfile=args.keyfile, timeout_keep_alive=30,
                            backlog=2048)
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(f"listening on {base_url}", flush=True)
        await task

    try:
        # uvicorn's loop choice (uvloop when installed): the stdlib loop adds ~40 ms to each keep-alive response here
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        if faults is not None:
            faults.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
