"""The rideshare routes as Django views."""
from django.http import HttpRequest, JsonResponse
from django.urls import path

from lib import routes

FRAMEWORK = "django"


def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(routes.describe(FRAMEWORK))


def order_view(vehicle: str):
    def view(request: HttpRequest) -> JsonResponse:
        return JsonResponse(routes.order(vehicle))

    return view


urlpatterns = [path("", index)] + [path(vehicle, order_view(vehicle)) for vehicle in routes.VEHICLES]
