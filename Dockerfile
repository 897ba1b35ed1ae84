# One image for every production role: `valorize api` (default), `valorize worker`,
# `valorize realtime`, `valorize migrate`. Wheels are built in the builder stage; the runtime
# stage installs them offline and runs as a non-root user.
FROM python:3.11-slim AS builder
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip
COPY pyproject.toml README.md ./
COPY src ./src
# No .git here: the version is --build-arg VERSION=X.Y.Z (the release tag), else 0.1.0.
ARG VERSION=""
RUN SETUPTOOLS_SCM_PRETEND_VERSION="${VERSION}" pip wheel --no-cache-dir --wheel-dir /wheels '.[api,tracing]'

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080 \
    VALORIZE_HOST=0.0.0.0 \
    VALORIZE_PORT=8080 \
    VALORIZE_REALTIME_HOST=0.0.0.0 \
    VALORIZE_REALTIME_PORT=8080 \
    VALORIZE_LOG_JSON=true
RUN groupadd --system --gid 10001 valorize \
    && useradd --system --uid 10001 --gid valorize --no-create-home --shell /usr/sbin/nologin valorize
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'valorize[api,tracing]' && rm -rf /wheels
USER 10001:10001
EXPOSE 8080
# /health answers on every role (API, worker and realtime all serve it on $PORT).
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=2)"]
ENTRYPOINT ["valorize"]
CMD ["api"]
