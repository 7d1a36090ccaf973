# syntax=docker/dockerfile:1
#
# Image of the text2sql service: `docker build -t text2sql:VERSION .` from the
# repository root. deploy/image_test.go builds the binary with the flags of
# the RUN go build line below (read from this file) and checks what the
# runtime stage must provide, so keep that line a single `go build` command.

# Build stage: cgo is required, because the PostgreSQL parser
# (pg_query_go) is the real Postgres parser compiled from C, and DuckDB's
# parser is DuckDB's C++ library.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1 \
    GOTOOLCHAIN=local
# Modules first, so source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/text2sql ./cmd/text2sql

# Runtime stage: distroless cc ships glibc and the C++ runtime (libstdc++,
# libgcc_s: DuckDB is C++), CA certificates and tzdata, and no shell or
# package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/text2sql /usr/local/bin/text2sql
# 65532 is distroless' "nonroot" user; numeric so Kubernetes can verify
# runAsNonRoot without resolving a name.
USER 65532:65532
# HTTP/JSON (health, metrics, API) and gRPC.
EXPOSE 8080 9090
ENV TEXT2SQL_HTTP_ADDR=:8080 \
    TEXT2SQL_GRPC_ADDR=:9090
ENTRYPOINT ["/usr/local/bin/text2sql"]
CMD ["serve"]
