# Builds the single-page app, then the Python app that serves it, the API and the workers.

FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/ ./
# web/ holds the SPA once it exists; until then this stage produces an empty dist/.
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund && npm run build; else mkdir -p dist; fi

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STATIC_ROOT=/app/staticfiles \
    VAULTPAY_RUN_DIR=/app/.run \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY pyproject.toml ./
COPY api/ api/
COPY workers/ workers/
COPY realtime/ realtime/
RUN pip install --no-cache-dir .
COPY manage.py Procfile ./
COPY --from=web /web/dist web/dist/
# collectstatic only reads settings; the throwaway local secrets it generates are discarded.
RUN DJANGO_SETTINGS_MODULE=api.config.settings.local VAULTPAY_RUN_DIR=/tmp/build \
    python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build
RUN useradd --create-home vaultpay && mkdir -p /app/.run && chown vaultpay /app/.run
USER vaultpay
EXPOSE 8000 8001
# The Procfile's `web` process (README, "The server").
CMD ["sh", "-c", "exec granian api.config.wsgi:application --interface wsgi --host $HOST --port $PORT --workers ${WEB_CONCURRENCY:-3} --blocking-threads 1 --respawn-failed-workers --workers-kill-timeout 5"]
