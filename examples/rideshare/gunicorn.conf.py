"""gunicorn settings for the Django variant: pre-forked workers, each starting the Hotpath profiler after
the fork (a profiler started before fork would not survive into the workers)."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)

from lib.settings import settings  # noqa: E402

chdir = _here
bind = f"{settings.listen_host}:{settings.listen_port}"
workers = 2
preload_app = True
wsgi_app = "django_site.wsgi:application"


def post_fork(server, worker):
    from lib import profiling

    profiling.start("django")


def worker_exit(server, worker):
    from lib import profiling

    profiling.hotpath.shutdown()
