#!/bin/sh
# Runs workerd ($TUNNELPLANE_WORKERD) as wrangler asks, adding an inspector on a free loopback
# port to the one process wrangler starts without one: its proxy on the Worker's port.
# `npm start` points MINIFLARE_WORKERD_PATH here (control plane only) so that
# scripts/collect-garbage.mjs can collect that process's isolates too (cloudflare/workerd#6894);
# scripts/workerd-processes.mjs finds the port. Linux only, as the collector.
: "${TUNNELPLANE_WORKERD:?set TUNNELPLANE_WORKERD to the workerd binary}"
for arg in "$@"; do
  case "$arg" in
    --inspector-addr | --inspector-addr=*) exec "$TUNNELPLANE_WORKERD" "$@" ;;
  esac
done
exec "$TUNNELPLANE_WORKERD" "$@" "--inspector-addr=127.0.0.1:0"
