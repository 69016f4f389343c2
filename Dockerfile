# One image for every service and the gateway; the command decides which runs.

# The browser libraries the gateway serves itself (the date fields' calendar), at the versions package-lock.json pins.
FROM node:20-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run vendor

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY services ./services
COPY gateway ./gateway
COPY --from=vendor /build/gateway/static/vendor ./gateway/static/vendor
COPY scripts ./scripts

# /imports: the files uploaded to インポート機能 (a volume of the customers and purchases services)
RUN useradd --create-home --uid 10001 tsuhan && mkdir -p /app/var /imports && chown tsuhan /app/var /imports
USER tsuhan

EXPOSE 8000
CMD ["gunicorn", "gateway.wsgi:app", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "8"]
