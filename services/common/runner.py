"""Runs one service in this process (``python -m services run <name>``)."""
import importlib
import logging.config

from nameko.cli.run import run

from .config import nameko_config


def service_class(name):
    return importlib.import_module(f"services.{name}.service").SERVICE


def run_service(name):
    config = nameko_config(name)
    logging.config.dictConfig(config["LOGGING"])
    if config["DATABASE_URL"].startswith("postgresql"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
    run([service_class(name)], config)
