# The bot in a container: python slim, not root, the database on a volume at /data.
# The same image runs either mode: `iep-bot run` polls, or takes a webhook when WEBHOOK_URL
# is set (it then listens on $PORT). Migrations run at start, inside `iep-bot run`, with the
# volume mounted: no separate release step. Settings and secrets come from the environment
# at run time (`--env-file .env`, `fly secrets set`); none is baked in. See docs/deploy.md.
#
#   docker build -t iep-bot .
#   docker run -d --name iep-bot -v iepbot-data:/data --env-file .env --stop-timeout 30 iep-bot

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY content ./content
# The bot and its runtime dependencies only (no dev extras), into a prefix copied below.
RUN pip install --no-cache-dir --root-user-action=ignore --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_PATH=/data/bot.sqlite3 \
    PORT=8080
COPY --from=build /install /usr/local
# A user of its own; /data is its only writable place, and a fresh volume mounted there
# takes the directory's owner.
RUN useradd --system --uid 10001 --user-group --home-dir /home/bot --create-home bot \
    && mkdir /data \
    && chown bot:bot /data
USER bot
WORKDIR /home/bot
VOLUME ["/data"]
# Webhook mode only (polling needs no port).
EXPOSE 8080
# Exit status 0 while the heartbeat is fresh (both modes); `docker inspect` shows its line.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["iep-bot", "status"]
STOPSIGNAL SIGTERM
CMD ["iep-bot", "run"]
