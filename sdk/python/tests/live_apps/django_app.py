"""A one-file Django site, served by gunicorn with --preload: configure() runs in the master (Django is
already imported, so it is patched at once) and every forked worker restarts the profiler for itself."""
import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

import work

settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], DEBUG=False, MIDDLEWARE=[])
django.setup()


def car(request, id: int) -> HttpResponse:
    return HttpResponse(work.order_car())


def bike(request, id: int) -> HttpResponse:
    return HttpResponse(work.order_bike())


urlpatterns = [path("car/<int:id>", car), path("bike/<int:id>", bike)]
application = get_wsgi_application()
work.start("django")
