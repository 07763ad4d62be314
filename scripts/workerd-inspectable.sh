#!/bin/sh
# Runs workerd as wrangler asks, with an inspector on 127.0.0.1:$TUNNELPLANE_PROXY_INSPECTOR_PORT
# for the one process wrangler starts without one: its proxy on the Worker's port. `npm start`
# points MINIFLARE_WORKERD_PATH here (control plane only) so that scripts/collect-garbage.mjs can
# collect that process's isolates too (cloudflare/workerd#6894). Linux only, as the collector.
case " $* " in
  *" --inspector-addr="*) exec "$TUNNELPLANE_WORKERD" "$@" ;;
esac
exec "$TUNNELPLANE_WORKERD" "$@" "--inspector-addr=127.0.0.1:$TUNNELPLANE_PROXY_INSPECTOR_PORT"
