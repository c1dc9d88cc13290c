# syntax=docker/dockerfile:1
#
# Two static binaries (api, worker) on distroless: no shell, no libc, runs as
# nonroot (65532). The image is in production mode (HOMETIME_ENV=production):
# both binaries refuse to start without MONGODB_URI, REDIS_URL, the two
# secrets and every provider's credentials, and never use the outbox or a
# generated secret. Run the worker with `--entrypoint /usr/local/bin/worker`.
# To try the image on its own, switch to development mode, which runs the
# whole stack in one process (embedded FerretDB under /data):
#
#   docker build -t hometime .
#   docker run -p 8080:8080 -e HOMETIME_ENV=development -v hometime-data:/data hometime --demo

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Modules first, so a source-only change reuses this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/api ./api/cmd/api && \
    go build -trimpath -ldflags='-s -w' -o /out/worker ./worker/cmd/worker
# The volume's mount point, owned by nonroot so a fresh named volume is writable.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/api /out/worker /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /data
ENV HOMETIME_DATA_DIR=/data HOMETIME_ENV=production
VOLUME ["/data"]
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/api"]
