# Oyster registry: the static binary and a CA bundle on an empty image,
# running as a non-root user (65532) with its data in one volume. The
# stager's binary rides along (/usr/local/bin/stager, its cache in
# /var/cache/oyster-stager) for the compose file's stager service.
#
# Two ways to get the binary, one runtime image:
#   target "runtime" (the default): compiles in a Go toolchain image;
#   target "prebuilt": copies what `make image-files` built on the host into
#     prebuilt/ (for machines that cannot pull a Go image); the compose file
#     picks it with OYSTER_BUILD_TARGET=prebuilt.
# "prebuilt" comes before the Go stage so that no builder, old or new,
# pulls the Go image for it.

FROM scratch AS base
COPY config.example.yml /etc/oyster/config.yml
USER 65532:65532
EXPOSE 5000
ENV OYSTER_ADDR=0.0.0.0:5000 OYSTER_DATA=/data
ENTRYPOINT ["/usr/local/bin/registry"]
CMD ["serve", "--config", "/etc/oyster/config.yml"]

FROM base AS prebuilt
COPY prebuilt/registry /usr/local/bin/registry
COPY prebuilt/stager /usr/local/bin/stager
COPY --chown=65532:65532 prebuilt/data /var/cache/oyster-stager
COPY prebuilt/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=65532:65532 prebuilt/data /data
VOLUME ["/data"]

FROM golang:1.26-bookworm AS compile
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/registry ./cmd/registry \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/stager ./cmd/stager \
 && cp /etc/ssl/certs/ca-certificates.crt /out/ \
 && mkdir -p /out/data

FROM base AS runtime
COPY --from=compile /out/registry /usr/local/bin/registry
COPY --from=compile /out/stager /usr/local/bin/stager
COPY --from=compile --chown=65532:65532 /out/data /var/cache/oyster-stager
COPY --from=compile /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=compile --chown=65532:65532 /out/data /data
VOLUME ["/data"]
