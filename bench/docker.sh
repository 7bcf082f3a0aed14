#!/usr/bin/env bash
# The Docker image's size, where Docker Hub is out of reach (as on the development machine): a Debian
# bookworm base with Python 3.11 and pip is made here with debootstrap (Debian's mirror only) and imported,
# then the Dockerfile is built on it (BASE) and the image, its layers and a first run are printed.
# Needs root, a Docker daemon and debootstrap (apt-get install docker.io debootstrap). Run by hand:
#     bash bench/docker.sh
# Where python:3.11-slim can be pulled, `make docker` builds on it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
base=local/debian-python:bookworm
root=$(mktemp -d /tmp/indexer-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-pip,passwd,ca-certificates bookworm "$root" \
  http://deb.debian.org/debian >/dev/null
# this machine's certificates (a proxy's own authority, where there is one) so that pip reaches the registry
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base" >/dev/null
started=$(date +%s)
docker build --quiet --network host --build-arg BASE="$base" --tag indexer:bench . >/dev/null
echo "built in $(( $(date +%s) - started )) s"
docker image ls "$base" --format 'base (Debian bookworm, Python 3.11, pip): {{.Size}}'
docker image ls indexer:bench --format 'image: {{.Size}}'
docker history indexer:bench --format '  {{.Size}}	{{.CreatedBy}}' | grep -v '^  0B' | cut -c1-100
photos=$(mktemp -d /tmp/indexer-photos.XXXXXX)
.venv/bin/python -c "from indexer.sample import cached_sample_library as s; import shutil, sys; \
  lib = s(); shutil.copy2(lib.group_photo, sys.argv[1])" "$photos"
chmod -R a+rX "$photos"
docker volume rm -f indexer-bench >/dev/null 2>&1 || true
docker run --rm -v indexer-bench:/data -v "$photos":/photos:ro indexer:bench --quiet index /photos >/dev/null
echo "faces the image found in the group photo: $(docker run --rm -v indexer-bench:/data -v "$photos":/photos:ro \
  indexer:bench who-is /photos/$(ls "$photos") | wc -l)"
docker volume rm -f indexer-bench >/dev/null
rm -rf "$photos"
