# 通販CRM: `make run` starts the whole system with demo data; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-cluster migrate demo check-broker clean bench-search bench-scale bench-freshness bench-load bench-import bench-import-stages bench-index-backlog

# The browser libraries the gateway serves itself (no CDN: the admin works without outside network), at the versions
# package-lock.json pins, copied from node_modules/ into gateway/static/vendor/ (npm run vendor).
VENDOR := gateway/static/vendor/.installed

$(VENDOR): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the admin's date picker and charts: sudo apt-get install -y npm" >&2; exit 1; }
	@echo "==> installing the gateway's browser libraries into gateway/static/vendor/"
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	touch $@

# (the libraries are installed with the Python packages; a newer lock file installs them again, not the packages)
$(VENV)/.installed: requirements.txt | $(VENDOR)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	@echo "==> installing the Python packages into $(VENV) (the first time takes a few minutes)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

check-broker: $(VENV)/.installed
	@echo "==> checking the RabbitMQ broker"
	@$(PY) -m services check-broker

migrate: $(VENV)/.installed
	@echo "==> migrating every database"
	@$(PY) -m services migrate

demo: migrate
	@echo "==> loading the demo company (only into empty databases)"
	@$(PY) -m services demo

run: check-broker demo
	@echo "==> starting the services and the gateway"
	@$(PY) scripts/run_all.py

# The suite in TEST_WORKERS processes (pytest-xdist), each with a whole stack of its own (services, databases, vhost,
# gateway, browser) and whole test files (module fixtures stay in one process): the tests mostly wait on the services.
TEST_WORKERS ?= 2

test: $(VENV)/.dev-installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Broker faults on RabbitMQ nodes the tests start themselves (free ports, own data; needs Debian's rabbitmq-server):
# an outage during writes, expired requests, and a three-node cluster with quorum queues losing a node.
test-cluster: $(VENV)/.dev-installed
	TSUHAN_CLUSTER_TESTS=1 $(PY) -m pytest tests/integration/test_broker_faults.py tests/cluster $(PYTEST_ARGS)

clean:
	rm -rf var/*.db var/*.db-wal var/*.db-shm var/log

# The search benchmark on the local PostgreSQL (BENCH_CUSTOMERS=100000 for a quicker run).
BENCH_CUSTOMERS ?= 1000000
SCALE_TIMES ?= 10
bench-search: $(VENV)/.dev-installed
	$(PY) -m bench.search_bench --customers $(BENCH_CUSTOMERS)

# 検索 and 集計 at ten times bench-search's company, in process, on ten copies of the store bench-search built.
bench-scale: $(VENV)/.dev-installed
	$(PY) -m bench.scale_bench --times $(SCALE_TIMES)

# Freshness of the search index under steady load: every service on fresh PostgreSQL databases, search as two
# replicas (FRESHNESS_SECONDS of load at FRESHNESS_RATE changes per second).
FRESHNESS_SECONDS ?= 60
FRESHNESS_RATE ?= 20
bench-freshness: $(VENV)/.dev-installed
	$(PY) -m bench.freshness_bench --seconds $(FRESHNESS_SECONDS) --rate $(FRESHNESS_RATE)

# The 検索 page and the customer page under LOAD_USERS operators (default 20) with LOAD_WRITERS connector writers
# (default 20) for LOAD_SECONDS (default 60), against a 1-operator, 1-writer baseline of the same run; every service
# and the gateway (gunicorn) on fresh PostgreSQL databases with the demo company. LOAD_ARGS=--quick for a short try.
LOAD_SECONDS ?= 60
LOAD_USERS ?= 20
LOAD_WRITERS ?= 20
bench-load: $(VENV)/.dev-installed
	$(PY) -m bench.load_bench --seconds $(LOAD_SECONDS) --users $(LOAD_USERS) --writers $(LOAD_WRITERS) $(LOAD_ARGS)

# A shop's whole history through the connector path on the local PostgreSQL (IMPORT_LINES order lines, default
# 1,000,000, with IMPORT_CUSTOMERS members), against a plain COPY of the same file. IMPORT_LINES=100000 for a quick try.
IMPORT_LINES ?= 1000000
IMPORT_CUSTOMERS ?= 100000
bench-import: $(VENV)/.dev-installed
	$(PY) -m bench.import_bench --lines $(IMPORT_LINES) --customers $(IMPORT_CUSTOMERS)

# Each part of that path alone, in one process (reading the file, the purchases service's check and write, the index,
# the replica), in CPU per 1,000 order lines: the least of STAGE_REPEAT runs of STAGE_LINES order lines.
STAGE_LINES ?= 300000
STAGE_REPEAT ?= 3
bench-import-stages: $(VENV)/.dev-installed
	$(PY) -m bench.import_stages --lines $(STAGE_LINES) --repeat $(STAGE_REPEAT)

# How fast the search index works off a backlog of owner events (search stopped while BACKLOG_CUSTOMERS customers
# and BACKLOG_ORDERS orders are written, then started), on fresh PostgreSQL databases.
BACKLOG_CUSTOMERS ?= 10000
BACKLOG_ORDERS ?= 10000
bench-index-backlog: $(VENV)/.dev-installed
	$(PY) -m bench.index_backlog_bench --customers $(BACKLOG_CUSTOMERS) --orders $(BACKLOG_ORDERS)
