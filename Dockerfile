# syntax=docker/dockerfile:1
# Handoff as a container: `docker compose up` (compose.yaml) runs it with PostgreSQL.
# Two stages: the first installs the pinned dependencies and the app into a venv, the
# second copies only that venv onto a clean base and runs it as an unprivileged user.
# The base image is pinned to an exact Python release (the one CI tests with);
# pin it by digest too (python:3.11.7-slim-bookworm@sha256:...) in your registry.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/handoff
COPY pyproject.toml constraints.txt ./
COPY app ./app
COPY db ./db
COPY permissions ./permissions
COPY schema ./schema
# Exact versions from constraints.txt; a plain (not editable) install of the app.
RUN /opt/handoff/bin/pip install -c constraints.txt .

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 handoff \
 && useradd --system --uid 10001 --gid handoff --home-dir /srv/handoff --create-home \
      --shell /usr/sbin/nologin handoff
COPY --from=build /opt/handoff /opt/handoff
WORKDIR /srv/handoff
ENV PATH=/opt/handoff/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000
USER 10001:10001
EXPOSE 8000
# Liveness only (no database): readiness is /readyz, for the orchestrator to probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
# Migrates to head, then serves; set DATABASE_URL and JWT_* (see .env.example).
CMD ["handoff", "serve"]
