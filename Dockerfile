# Oyster registry: static binary on a minimal non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/registry ./cmd/registry \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/registry /usr/local/bin/registry
COPY --from=build --chown=65532:65532 /out/data /data
COPY config.example.yml /etc/oyster/config.yml
USER 65532:65532
EXPOSE 5000
VOLUME ["/data"]
ENV OYSTER_ADDR=0.0.0.0:5000 OYSTER_DATA=/data
ENTRYPOINT ["/usr/local/bin/registry"]
CMD ["serve", "--config", "/etc/oyster/config.yml"]
