"""`minyi sip`: the SIP redirect server for virtual numbers (see minyi.calls.sip)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from minyi.calls import conf


class Command(BaseCommand):
    help = "Virtual numbers: answer switches' INVITEs to bound numbers with a 302 to the other party (UDP)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=5060, help="UDP port (default 5060).")
        parser.add_argument("--workers", type=int, default=4, help="Database threads (default 4).")

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self.serve(options["host"], options["port"], options["workers"]))

    async def serve(self, host: str, port: int, workers: int) -> None:
        from minyi.calls.sip import SipRedirectServer

        server = SipRedirectServer(host, port, workers=workers)
        bound_host, bound_port = await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        peers = ", ".join(str(n) for n in conf.sip_allowed_peers()) or "none"
        gateway = conf.sip_gateway() or "the asking switch"
        self.stdout.write(
            f"SIP redirect server on udp {bound_host}:{bound_port} (peers: {peers}; redirects via {gateway})"
        )
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            await server.close()
            self.stdout.write("SIP redirect server stopped")
