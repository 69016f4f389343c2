"""Command line: ``python -m services <command>``.

  run <service>           run one service (Nameko) in this process
  migrate [service ...]   bring databases to the newest migration (all services by default)
  check-broker            exit 1 with advice when no RabbitMQ answers
  health <service>        exit 0 when the service's health RPC answers ok (container health checks)
  demo                    load the demo company into empty databases
  create-company --name NAME --login LOGIN_ID [--operator-name NAME] [--email E] [--phone P]
                          a new company and its first operator; prints the password once
  import customers|purchases FILE --company ID --shop 店舗番号 [--format F] [--encoding E] [--mapping JSON]
         [--mode create_update|update_only|create_only] [--keep-existing] [--batch N] [--state FILE]
                          stream a CSV file to the services, resumable (services/connector.py)
  reconcile <company id>  report whether the search index agrees with the owners (exit 1 when it does not)
  rebuild <company id>    reload the company's search index from the owners
  repair <company id>     set right, entity by entity, what reconcile finds (exit 1 when still not in agreement)
"""
import sys

if len(sys.argv) > 1 and sys.argv[1] == "run":
    import eventlet

    eventlet.monkey_patch()


def main(argv):
    from services.common import garbage
    from services.common.config import SERVICE_NAMES, amqp_uri

    garbage.tune()

    if len(argv) < 1:
        print(__doc__)
        return 2
    command, args = argv[0], argv[1:]
    if command == "run" and len(args) == 1 and args[0] in SERVICE_NAMES:
        from services.common.runner import run_service

        run_service(args[0])
        return 0
    if command == "migrate":
        from services.common.migrations import upgrade

        for name in args or SERVICE_NAMES:
            upgrade(name)
            print(f"migrated {name}")
        return 0
    if command == "check-broker":
        from services.common.broker import HOW_TO_GET_ONE, broker_answers, masked

        if broker_answers(amqp_uri()):
            return 0
        print(HOW_TO_GET_ONE.format(uri=masked(amqp_uri())), file=sys.stderr)
        return 1
    if command == "health" and len(args) == 1 and args[0] in SERVICE_NAMES:
        from services.common.health import probe

        ok, detail = probe(args[0], amqp_uri())
        print(detail, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1
    if command in ("reconcile", "rebuild", "repair") and len(args) == 1 and args[0].isdigit():
        import json

        from services.common.deadlines import ClusterRpcProxy

        scope = {"company_id": int(args[0]), "role": "system"}
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=3600) as rpc:
            result = getattr(rpc.search, command)(scope)
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0 if command == "rebuild" or result["in_agreement"] else 1
    if command == "import":
        from services.connector import run

        garbage.freeze_startup()  # the modules it imported live as long as it
        garbage.tune_reader()
        return run(args)
    if command == "create-company":
        return create_company(args)
    if command == "demo":
        from services.demo import load_demo

        load_demo()
        return 0
    print(__doc__)
    return 2


def create_company(args):
    import argparse

    from sqlalchemy.orm import sessionmaker

    from services.common.config import database_url
    from services.common.db import make_engine
    from services.common.errors import ValidationFailed
    from services.shops import provisioning

    parser = argparse.ArgumentParser(prog="python -m services create-company",
                                     description="A new company and its first operator (the password is shown once).")
    parser.add_argument("--name", required=True, help="the company's name (企業名)")
    parser.add_argument("--login", required=True, help="the first operator's login id")
    parser.add_argument("--operator-name", default="", help="the operator's name as the header shows it")
    parser.add_argument("--email", default="")
    parser.add_argument("--phone", default="")
    options = parser.parse_args(args)
    company = {"name": options.name, "email": options.email, "phone": options.phone}
    engine = make_engine(database_url("shops"))
    try:
        with sessionmaker(engine)() as session:
            try:
                created = provisioning.create_company(session, company, options.login, options.operator_name)
            except ValidationFailed as failure:
                print(f"refused: {failure.fields}", file=sys.stderr)
                return 1
            session.commit()
    finally:
        engine.dispose()
    print(f"company {created['company_id']} created")
    print(f"operator login id: {created['login_id']}")
    print(f"password (shown this once, keep it now): {created['password']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
