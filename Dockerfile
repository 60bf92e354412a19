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
# gunicorn's sync workers: 2 × cores + 1 (gunicorn's advice; bench/load.py measured 5 on two
# cores). Set WEB_CONCURRENCY for the host's cores.
ENV WEB_CONCURRENCY=5
CMD ["gunicorn", "salesdesk.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
