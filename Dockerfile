# syntax=docker/dockerfile:1
# The social-kpi app: one image, one CLI. docker-compose.yml picks the command per service
# (`migrate`, `scheduler --plan ...`, `worker --plan ...`). TypeScript runs through tsx at load
# time, so there is no build step and the image holds the sources as they are in the repository.
FROM node:20-slim

ENV NODE_ENV=production \
    DATA_DIR=/var/lib/social-kpi

WORKDIR /app

# Dependencies first: a code change does not reinstall them. Runtime dependencies only
# (tsx is one of them).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

# The code stays owned by root, so the app cannot change it; the app writes only to DATA_DIR.
RUN mkdir -p "$DATA_DIR" && chown node:node "$DATA_DIR"
USER node

ENTRYPOINT ["node", "bin/social-kpi.js"]
CMD ["--help"]
