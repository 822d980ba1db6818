# The image of docker-compose's web, worker, beat and migrate services (one image, four commands).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=aicmo.settings.production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are collected into the image (the app user cannot write /app at run time). The key and hosts
# here exist only for this build step: production refuses to start without real ones.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 aicmo \
    && mkdir -p /data/media \
    && chown aicmo /data/media
USER aicmo
EXPOSE 8000
# ASGI (uvicorn workers): an open ?wait= or stream is a suspended coroutine, not a held thread.
CMD ["gunicorn", "aicmo.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--timeout", "150", "--graceful-timeout", "30", "--access-logfile", "-"]
