"""Finding customers by mail address (``resolve_emails``: order files that name customers by address), on the test
database as migrated: found without case, and on PostgreSQL through the indexes of migration 0011 rather than by
reading every customer of the company."""
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from services.common.migrations import upgrade
from services.common.scope import Scope
from services.customers import customers
from services.customers.models import Customer
from tests.support import Databases

SCOPE = Scope.parse({"company_id": 1, "role": "system"})


@pytest.fixture
def engine(tmp_path):
    databases = Databases(tmp_path)
    url = databases.create("email_lookup")
    upgrade("customers", url)
    engine = sa.create_engine(url)
    with sessionmaker(engine)() as session:
        for n, (company, pc, mobile) in enumerate([(1, "Taro@Example.JP", ""), (1, "", "hanako@docomo.ne.jp"),
                                                  (1, "shared@example.jp", ""), (1, "", "SHARED@example.jp"),
                                                  (2, "jiro@example.jp", "")], start=1):
            session.add(Customer(company_id=company, shop_id=1, member_number=f"M{n}", family_name="試験",
                                 pc_email=pc, mobile_email=mobile))
        session.commit()
    with engine.begin() as connection:  # a company of some size, as the planner sees it
        connection.execute(sa.insert(Customer), [
            {"company_id": 1, "shop_id": 1, "member_number": f"F{n}", "family_name": "多数",
             "pc_email": f"filler{n}@example.jp", "mobile_email": f"filler{n}@docomo.ne.jp"} for n in range(3000)])
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE customers"))
    yield engine
    engine.dispose()
    databases.drop_all()


def test_addresses_name_one_customer_of_the_company_without_case(engine):
    with sessionmaker(engine)() as session:
        found = customers.resolve_emails(session, SCOPE, ["taro@example.jp", "HANAKO@docomo.ne.jp",
                                                          "shared@example.jp", "jiro@example.jp"])
    # shared: two customers have it, so it names neither; jiro: another company's
    assert found == {"taro@example.jp": "M1", "HANAKO@docomo.ne.jp": "M2"}


def test_the_lookup_reads_the_address_indexes_not_every_customer(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    statements = []

    def seen(_connection, _cursor, statement, parameters, _context, _many):
        if "lower(" in statement:
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", seen)
    with sessionmaker(engine)() as session:
        customers.resolve_emails(session, SCOPE, ["taro@example.jp"])
    assert len(statements) == 1
    statement, parameters = statements[0]
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_customers_company_pc_email" in plan and "ix_customers_company_mobile_email" in plan, plan
