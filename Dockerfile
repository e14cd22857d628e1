# Build stage: libpq is built from source by pq-sys (bundled) and links OpenSSL.
FROM rust:1-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked

# Runtime stage: the binary, its templates are compiled in; config/ is read at start.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app rollcall \
 && mkdir -p /app /data \
 && chown rollcall /app /data
WORKDIR /app
COPY --from=build /src/target/release/rollcall /usr/local/bin/rollcall
COPY config ./config
ENV ROLLCALL__SERVER__HOST=0.0.0.0 \
    ROLLCALL__DATABASE__URL=sqlite:///data/rollcall.db
VOLUME ["/data"]
EXPOSE 8080
USER rollcall
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["rollcall", "healthcheck"]
ENTRYPOINT ["rollcall"]
CMD ["serve"]
