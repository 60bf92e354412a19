FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
RUN pip install .
COPY . .
# Build-time only values: the real ones come from the environment at run time.
RUN SECRET_KEY=build python manage.py compilemessages --ignore=.venv -v0 \
    && SECRET_KEY=build python manage.py collectstatic --noinput -v0

RUN useradd --system --home /app salesdesk && chown -R salesdesk /app
USER salesdesk
EXPOSE 8000
# gunicorn's sync workers: cores + 1. The work is CPU, not waiting: bench/load.py's 400 × 20
# peak on two cores answered in 0.23 s at p95 with 3 workers and in 3.8–4.5 s with 5, whose
# every request cost a third more CPU (README, "18:00 peak"). Set WEB_CONCURRENCY for the
# host's cores.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "salesdesk.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
