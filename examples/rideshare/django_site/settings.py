"""Django settings for the rideshare app: no database, no templates, JSON views only."""
import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "rideshare-demo-only")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_site.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
