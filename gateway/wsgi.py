"""WSGI entry point: ``gunicorn gateway.wsgi:app``."""
import logging

from services.common.config import env

from . import create_app

logging.basicConfig(level=env("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app()
