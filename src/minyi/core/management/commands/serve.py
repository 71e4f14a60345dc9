"""`minyi serve`: the production web server — gunicorn with several worker processes, static
files from WhiteNoise (hashed names, compressed, cached for a year), on the configured
database (PostgreSQL) and Redis. Background jobs run separately: `minyi run_huey`.

The access log never shows query strings (they may carry an access code) nor client data.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

#: Access-log format: remote address, method, path without the query, status, bytes, time.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def default_workers() -> int:
    return int(os.environ.get("MINYI_WEB_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))


class Command(BaseCommand):
    help = "Serve Minyi in production with gunicorn (several workers); static files via WhiteNoise."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("MINYI_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}"))
        parser.add_argument("--workers", type=int, default=default_workers())
        parser.add_argument("--threads", type=int, default=int(os.environ.get("MINYI_WEB_THREADS", "1")))
        parser.add_argument("--timeout", type=int, default=30)
        parser.add_argument("--max-requests", type=int, default=20000, help="recycle a worker after this many requests")
        parser.add_argument("--access-log", default=os.environ.get("MINYI_ACCESS_LOG", "-"),
                            help='file for the access log ("-": standard output, "": none)')
        parser.add_argument("--no-collectstatic", action="store_true", help="static files were collected already")

    def handle(self, *args, **options):
        from gunicorn.app.base import BaseApplication

        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        config: dict[str, Any] = {
            "bind": options["bind"],
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread" if options["threads"] > 1 else "sync",
            "timeout": options["timeout"],
            "graceful_timeout": 20,
            "keepalive": 5,
            "max_requests": options["max_requests"],
            "max_requests_jitter": max(1, options["max_requests"] // 10),
            "preload_app": True,
            "accesslog": options["access_log"] or None,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "proc_name": "minyi",
        }
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()

        class Server(BaseApplication):
            def load_config(self):
                for key, value in config.items():
                    self.cfg.set(key, value)

            def load(self):
                return application

        self.stdout.write(
            f"Minyi on http://{config['bind']} — {config['workers']} workers × {config['threads']} threads, "
            f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
        )
        # Everything imported so far lives as long as the server: move it out of the garbage
        # collector's sight before forking, so the workers' collections stay short and the pages
        # shared with the master are not copied when a collection touches them.
        gc.collect()
        gc.freeze()
        Server().run()
