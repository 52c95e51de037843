# MAMcrawler: gunicorn (web) or the django-q2 worker (`python manage.py qcluster`), as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production \
    DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    LIBRARY_ROOT=/library \
    PORT=8000

RUN groupadd --system --gid 1000 mamcrawler \
    && useradd --system --uid 1000 --gid mamcrawler --home-dir /app --shell /usr/sbin/nologin mamcrawler

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=mamcrawler:mamcrawler . .
# Static files are collected into the image (served by whitenoise); /data and /library are volumes.
RUN DJANGO_ENV=development DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-data \
    && mkdir -p /data /library \
    && chown -R mamcrawler:mamcrawler /data /library /app/staticfiles

USER mamcrawler
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 CMD ["python", "bin/healthcheck"]
CMD ["sh", "-c", "exec gunicorn mamcrawler.wsgi --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-2} --access-logfile -"]
