# The portal's image: web (gunicorn + WhiteNoise), Celery worker and beat all run from it (docker-compose.yml).

# nhsuk-frontend comes from npm at build time, exactly as `make run` installs it.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8000
# WeasyPrint needs Pango and HarfBuzz; the PDF fonts are Liberation Sans (metric-compatible with Arial).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-liberation2 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 app
WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY --from=frontend /app/node_modules ./node_modules
COPY . .
# collectstatic needs settings but no secrets or database: a throwaway key is enough at build time.
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-key-not-used-at-run-time-0123456789abcdef \
    python manage.py collectstatic --noinput \
    && mkdir -p var/media var/beat && chown -R app:app var
USER app
EXPOSE 8000
CMD ["sh", "-c", "gunicorn register.wsgi:application --bind 0.0.0.0:${PORT} --workers 3 --access-logfile -"]
