# evfleet studio image: the CLI, the flows, the Prefect worker, MLflow, Streamlit and Dask.
# compose.yaml runs every service of the studio from this one image (see README "Containers").
#
#   docker build -t evfleet .
#   docker build --build-arg PYTHON_IMAGE=my-registry/python:3.11-slim -t evfleet .
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# libgomp1: the OpenMP runtime of LightGBM and XGBoost (not in the slim image).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from pyproject.toml alone: this layer stays cached until the
# dependency list changes, however often the source below changes.
WORKDIR /app
COPY pyproject.toml ./
RUN python3 -m venv "$VIRTUAL_ENV" \
    && python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['server']))" > /tmp/requirements.txt \
    && pip install --upgrade pip \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (no dependency resolution: they are all above), run from /app so that
# prefect.yaml's entrypoints, expectations/ and app/ are where the code expects them.
COPY . /app
RUN pip install --no-deps -e /app \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin evfleet \
    && mkdir -p /workspace /mlartifacts \
    && chown evfleet:evfleet /workspace /mlartifacts

# Offline operation (DESIGN.md section 8) and the studio's shared locations.
ENV EVFLEET_WORKSPACE=/workspace \
    EVFLEET_PROJECT_DIR=/app \
    PREFECT_HOME=/workspace/prefect \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_UI_SHOW_PROMOTIONAL_CONTENT=false \
    MLFLOW_DISABLE_TELEMETRY=true \
    GX_ANALYTICS_ENABLED=false \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    DO_NOT_TRACK=1

USER evfleet
VOLUME ["/workspace"]
EXPOSE 4200 5000 8501 8786 8787
CMD ["evfleet", "--help"]
