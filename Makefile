.PHONY: run test lint messages bench-rollup bench-dashboard bench-my-page bench-load bench-faults bench-page-weight

run:  ## the embedded demo on http://127.0.0.1:8000/
	scripts/run

test:  ## the whole suite on throwaway PostgreSQL and Redis
	scripts/test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

messages:  ## refresh the English catalogue after changing UI strings
	.venv/bin/python manage.py makemessages -l en --ignore=.venv --ignore=staticfiles --ignore=tests

bench-rollup:  ## rollup benchmark on throwaway PostgreSQL (ARGS="--companies 10")
	scripts/bench rollup $(ARGS)

bench-dashboard:  ## dashboard request benchmark on throwaway PostgreSQL (ARGS="--days 60")
	scripts/bench dashboard $(ARGS)

bench-my-page:  ## the manager's page and report form: queries and p50/p95 in process
	scripts/bench my_page $(ARGS)

bench-load:  ## the 18:00 peak over HTTP: gunicorn, Celery, locust (ARGS="--companies 5 --minutes 1")
	scripts/bench load $(ARGS)

bench-faults:  ## PostgreSQL restarted under gunicorn, Redis stopped, a worker killed
	scripts/bench faults $(ARGS)

bench-page-weight:  ## «Мои показатели» cold on a throttled phone in Chromium: bytes and times
	scripts/bench page_weight $(ARGS)
