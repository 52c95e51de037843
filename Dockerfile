FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_ENV=development python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "mamcrawler.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
