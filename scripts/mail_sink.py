"""A local SMTP sink: accepts every mail and keeps it as a .eml file, so that nothing leaves the machine.

    python scripts/mail_sink.py [--host 127.0.0.1] [--port 2525] [--dir var/mail]
"""
import argparse
import pathlib
import time
import uuid

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.directory / (name + ".part")).write_bytes(envelope.original_content or envelope.content)
        (self.directory / (name + ".part")).rename(self.directory / name)  # readers never see half a mail
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", default="var/mail")
    args = parser.parse_args()
    controller = Controller(Keep(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP sink on {args.host}:{args.port}, mails kept in {args.dir}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
