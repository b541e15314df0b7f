"""Starts the Django variant under gunicorn with gunicorn.conf.py (2 pre-forked workers), so every
variant starts the same way: `python <variant>_server.py`."""
import os
import sys

from lib.settings import settings

conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn.conf.py")
print(f"rideshare {settings.region} (django) on http://{settings.listen_host}:{settings.listen_port}", flush=True)
os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "-c", conf, "django_site.wsgi:application"])
