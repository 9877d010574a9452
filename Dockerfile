# secnode container image.
#   docker build -t REGISTRY/secnode:0.1.0 .
# The same image runs the API (default command), the reporter (`sync run`) and migrations (`migrate`).

# ---- builder: a virtual environment with secnode and its dependencies ------------------------------------------
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY node ./node
COPY faces ./faces
COPY foundation ./foundation
COPY registry ./registry
COPY resolver ./resolver
COPY sync ./sync
# Every dependency ships binary wheels for CPython 3.11 on Linux, so no compiler is needed here either.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip install --no-cache-dir /wheels/*.whl

# ---- runtime: the virtual environment and the migrations, no build tools ----------------------------------------
FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="secnode" \
      org.opencontainers.image.description="Industrial internet identifier resolution secondary node" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"

# The native Handle face listens on all IPv4 addresses of the container, as the HTTP face does (CMD below).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SECNODE_NATIVE_HOST=0.0.0.0

RUN groupadd --system --gid 10001 secnode \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin secnode \
    && mkdir -p /var/lib/secnode \
    && chown 10001:10001 /var/lib/secnode

COPY --from=builder /opt/venv /opt/venv
# The wheel carries the packages only; `secnode migrate` looks for the Alembic scripts beside them
# (foundation/migrate.py: <site-packages>/migrations).
COPY migrations /opt/venv/lib/python3.11/site-packages/migrations

# Working directory of the embedded default (./secnode.db, ./secnode-node.key) when the image runs without
# PostgreSQL; under Kubernetes the root filesystem is read-only and nothing is written here.
WORKDIR /var/lib/secnode
USER 10001:10001

# HTTP, and the native Handle protocol (RFC 3652) on TCP and UDP (SECNODE_NATIVE_PORT; SECNODE_NATIVE_ENABLED=false
# turns it off).
EXPOSE 8000 2641/tcp 2641/udp
# No HEALTHCHECK: the image also runs `sync run` and `migrate`, which serve no HTTP; Kubernetes probes
# /healthz and /readyz itself.
ENTRYPOINT ["secnode"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
