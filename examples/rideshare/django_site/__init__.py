"""The rideshare app as a Django project (no database), served by gunicorn's pre-fork workers."""
