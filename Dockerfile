# syntax=docker/dockerfile:1
#
# Two static binaries (api, worker) on distroless: no shell, no libc, runs as
# nonroot (65532). The api image runs the whole stack in one process when
# MONGODB_URI and REDIS_URL are unset (embedded FerretDB under /data); set them,
# and run the worker with `--entrypoint /usr/local/bin/worker`, in production.
#
#   docker build -t hometime .
#   docker run -p 8080:8080 -v hometime-data:/data hometime

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
ENV HOMETIME_DATA_DIR=/data
VOLUME ["/data"]
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/api"]
