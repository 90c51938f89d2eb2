#!/bin/sh
# Start the API as the container does: wait for the database, migrate, seed an empty
# database, then replace this shell with the server so that it receives SIGTERM itself.
# Works on a host too (`sh docker/entrypoint.sh` from the project's root, HOST=127.0.0.1).
# With arguments it runs them instead, untouched: `docker compose run --rm api python -m app
# migrate 0001 --down` must not migrate up first.
set -eu

cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

# The words pydantic reads as true, so this script and the app agree on AUTO_MIGRATE/AUTO_SEED.
enabled() {
    case "$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" in
        1 | t | true | y | yes | on) return 0 ;;
        *) return 1 ;;
    esac
}

python -m app wait-db --timeout "${DB_WAIT_TIMEOUT:-60}"
if enabled "${AUTO_MIGRATE:-true}"; then
    python -m app migrate
fi
if enabled "${AUTO_SEED:-true}"; then
    python -m app seed --if-empty
fi
exec python -m app serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --workers "${WORKERS:-1}"
