"""Keep secrets out of logs.

Nameko's RPC proxy logs every reply body at DEBUG, and replies can carry a freshly generated
password; the RPC entrypoints likewise log call arguments, which for a login carry the password
typed. These loggers are held at INFO whatever LOG_LEVEL says.
"""
import logging

CHATTY_LOGGERS = ("nameko.rpc", "nameko.standalone.rpc", "nameko.messaging", "nameko.amqp", "nameko.containers")


def quiet_chatty_loggers():
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (inherit) included: the root may be lowered later
            logger.setLevel(logging.INFO)


LOGGING_OVERRIDES = {name: {"level": "INFO"} for name in CHATTY_LOGGERS}
