"""python -m services create-company: a company and its first operator, who can log in with the password printed
once; refused input writes nothing."""
import os
import re
import subprocess
import sys

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.migrations import upgrade
from services.shops import accounts
from services.shops.models import Account, Company
from tests.support import ROOT


def command(var_dir, *args):
    env = dict(os.environ, TSUHAN_VAR_DIR=str(var_dir))
    env.pop("SHOPS_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "services", "create-company", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_new_company_whose_operator_logs_in_with_the_password_shown_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'shops.db'}"
    upgrade("shops", url)
    made = command(tmp_path, "--name", "テスト通販", "--login", "tsuhan-admin", "--operator-name", "管理者",
                   "--email", "info@example.jp")
    assert made.returncode == 0, made.stderr
    assert re.search(r"^company 101 created$", made.stdout, re.M), made.stdout
    password = re.search(r"^password \(shown this once, keep it now\): (\S+)$", made.stdout, re.M).group(1)
    again = command(tmp_path, "--name", "二社目", "--login", "second-admin")
    assert again.returncode == 0 and "company 102 created" in again.stdout

    engine = make_engine(url)
    with sessionmaker(engine)() as session:
        company = session.get(Company, 101)
        assert (company.name, company.email) == ("テスト通販", "info@example.jp")
        context, refusal = accounts.authenticate(session, {"login_id": "tsuhan-admin", "password": password,
                                                           "ip": "192.0.2.1"})
        assert refusal is None
        assert (context["scope"]["company_id"], context["scope"]["role"]) == (101, "operator")
        assert password not in session.scalar(select(Account.password_hash).where(Account.login_id == "tsuhan-admin"))
    engine.dispose()


def test_refused_input_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shops.db'}"
    upgrade("shops", url)
    assert command(tmp_path, "--name", "一社目", "--login", "taken-admin").returncode == 0
    taken = command(tmp_path, "--name", "二社目", "--login", "taken-admin")
    nameless = command(tmp_path, "--name", "", "--login", "other-admin")
    assert (taken.returncode, nameless.returncode) == (1, 1)
    assert "login_id" in taken.stderr and "taken" in taken.stderr
    assert "name" in nameless.stderr and "required" in nameless.stderr
    engine = make_engine(url)
    with sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Company)) == 1
        assert session.scalar(select(func.count()).select_from(Account)) == 1
    engine.dispose()
