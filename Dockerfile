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
# CPU wheels only: the pinned torch from the CPU index keeps the image free of CUDA libraries.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu . \
 && pip install --no-deps recbole==1.2.1
RUN useradd --create-home foryou
USER foryou
ENTRYPOINT ["foryou"]
