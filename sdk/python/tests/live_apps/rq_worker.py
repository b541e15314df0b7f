"""An RQ worker on queue `rides` (Redis at AUTOTAGS_REDIS_URL), forking a work horse per job."""
import os

from redis import Redis
from rq import Worker

import work

work.start("rq")
Worker(["rides"], connection=Redis.from_url(os.environ["AUTOTAGS_REDIS_URL"])).work()
