"""Checks that a RabbitMQ broker answers, so that commands fail at once with advice instead of hanging."""
import re

from kombu import Connection

HOW_TO_GET_ONE = """\
No RabbitMQ broker answers at {uri}.
Start one, then run the command again:
  - Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached
  - Docker:         docker run -d -p 5672:5672 rabbitmq:3.13-management
  - this project's docker-compose.yml:
                    SECRET_KEY=x TRACKING_SECRET=x RABBITMQ_ERLANG_COOKIE=x docker compose up -d rabbitmq1
                    and AMQP_URI=amqp://tsuhan:tsuhan@127.0.0.1:5672/
  - elsewhere:      set AMQP_URI to a broker you have (amqp://user:password@host:5672/)"""


def masked(uri):
    """The URI with its password hidden, for messages."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", uri)


def broker_answers(uri, timeout=3.0):
    try:
        with Connection(uri, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:
        return False
