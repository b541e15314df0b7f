"""A Celery app on a Redis broker (AUTOTAGS_REDIS_URL); `celery -A celery_app worker` runs its prefork pool."""
import os

from celery import Celery

import work

work.start("celery")

app = Celery("celery_app", broker=os.environ["AUTOTAGS_REDIS_URL"])


@app.task(name="rides.car")
def car() -> str:
    work.spin(0.1)
    return work.order_car()


@app.task(name="rides.bike")
def bike() -> str:
    work.spin(0.1)
    return work.order_bike()
