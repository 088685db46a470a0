# Builds the single-page app, then the Python app that serves it, the API and the workers.
# Base images are pinned to exact versions (bump them on purpose); Python packages come from
# uv.lock and npm packages from web/package-lock.json, so a build installs what CI tested.

FROM node:20.20.2-bookworm-slim AS web
WORKDIR /web
# The packages first: this layer is rebuilt only when the lock file changes.
COPY web/package.json web/package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11.16-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH \
    STATIC_ROOT=/app/staticfiles \
    VAULTPAY_RUN_DIR=/app/.run \
    HOST=0.0.0.0 \
    PORT=8000 \
    WS_PORT=8001
# The same uv version as the Makefile's UV_VERSION.
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# The locked dependencies first (no dev extra): rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-cache
COPY api/ api/
COPY workers/ workers/
COPY realtime/ realtime/
RUN uv sync --locked --no-cache
COPY manage.py Procfile ./
COPY scripts/procfile.sh scripts/
COPY --from=web /web/dist web/dist/
# collectstatic only reads settings; the throwaway local secrets it generates are discarded.
RUN DJANGO_SETTINGS_MODULE=api.config.settings.local VAULTPAY_RUN_DIR=/tmp/build \
    python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build
RUN useradd --create-home vaultpay && mkdir -p /app/.run && chown vaultpay /app/.run
USER vaultpay
EXPOSE 8000 8001
# A Procfile process by name (web, ws, worker, beat, release): the commands live there only.
CMD ["scripts/procfile.sh", "web"]
