# One image for every service (CPU torch). Build: docker build -t foryou .
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY candidate_pipeline candidate_pipeline
COPY thunder thunder
COPY phoenix phoenix
COPY home_mixer home_mixer
COPY events events
COPY user_state user_state
COPY protos protos
COPY infra infra
COPY bench bench
# CPU wheels only: torch first from the CPU index (its 2.13.0+cpu satisfies the ==2.13.0 pin), so
# installing the project afterwards does not pull PyPI's CUDA build and its ~2.6 GB of nvidia wheels.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install . \
 && pip install --no-deps recbole==1.2.1
# /checkpoints is the compose volume the `train` job writes and ranker/retrieval read; a named
# volume takes this directory's owner on first mount, so the unprivileged user can write it.
RUN useradd --create-home foryou && mkdir /checkpoints && chown foryou /checkpoints
USER foryou
ENTRYPOINT ["foryou"]
