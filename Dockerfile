# syntax=docker/dockerfile:1
# fairgate gateway image (CPU). Build: docker build -t fairgate:0.1.0 .
# Run:   docker run -p 8080:8080 fairgate:0.1.0            (serve; `monitor` for the aggregator)
#
# The onnxruntime-node npm package ships the CPU binaries for linux x64/arm64 itself; .npmrc
# sets onnxruntime-node-install=skip so its install script never downloads CUDA binaries, and
# .npmrc is copied into both stages so both installs see it.

# --- build: dev dependencies, TypeScript -> dist/
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
# --ignore-scripts: `prepare` (tsc) needs src/, copied below; nothing else needs an install script.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, non-root, read-only friendly
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts skips `prepare` (no TypeScript here) and onnxruntime-node's downloader.
# The onnxruntime binaries of other platforms (darwin, win32: ~200 MB) are removed.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} + \
 && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY models ./models
COPY policies ./policies
COPY proto ./proto
# The /ui page's HTML, script and stylesheet (read once at start; see docs/ui.md).
COPY ui ./ui
# The `node` user of the base image, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8080
# gRPC (grpc.port)
EXPOSE 8081
# No curl in slim images: a node one-liner against the liveness endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.FAIRGATE_HTTP_PORT||8080)+'/v2/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/index.js"]
CMD ["serve"]

# --- CUDA image (notes; not built by default)
# * Base: nvidia/cuda:12.x-cudnn-runtime-ubuntu22.04 (or -ubuntu24.04) with Node 20 installed
#   from NodeSource; onnxruntime-node 1.23's CUDA provider needs CUDA 12 and cuDNN 9.
# * The npm package has no CUDA provider; its install script downloads it on request. After
#   the `npm ci` of the runtime stage (which skips scripts), run it explicitly:
#     RUN cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js
#   (this needs network access to the onnxruntime release packages at build time).
# * Run with FAIRGATE_MODELS_EXECUTION_PROVIDER=cuda and the NVIDIA container runtime
#   (`docker run --gpus all`, or on Kubernetes the nvidia device plugin and
#   `resources.limits: {nvidia.com/gpu: 1}`). Without a GPU, fairgate logs a warning and
#   falls back to CPU; GET /v1/variants shows the provider each variant runs on.
