#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer; install and start them from Debian
# packages when they do not. Loopback only. Uses running servers as they are.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
apt_updated=""
install() {
    [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! listening 5432; then
    command -v pg_ctlcluster >/dev/null || install postgresql
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do listening 5432 && break; sleep 1; done
    # The suite connects as postgres/postgres over TCP (Debian's default is password auth on 127.0.0.1).
    $SUDO su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
fi

if ! listening 6379; then
    command -v redis-server >/dev/null || install redis-server
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do listening 6379 && break; sleep 1; done
fi
# Tests that stop Redis start their own redis-server on another port; some find worker processes with pgrep.
command -v redis-server >/dev/null || install redis-server
command -v pgrep >/dev/null || install procps
# The PgBouncer test starts its own pgbouncer on a free port.
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || install pgbouncer
# The benchmark smoke tests load the node with wrk.
command -v wrk >/dev/null || install wrk
# The console's browser test drives headless Chromium through chromedriver (a CJK font for legible screenshots).
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || install chromium chromium-driver fonts-wqy-microhei
# The alert rules' tests run promtool: taken out of Debian's prometheus package into .cache/prometheus rather than
# installed (installing it would start a Prometheus server).
if ! command -v promtool >/dev/null && [ ! -x .cache/prometheus/usr/bin/promtool ]; then
    [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
    mkdir -p .cache/prometheus
    (cd .cache/prometheus && apt-get download -qq prometheus 2>/dev/null && dpkg-deb -x prometheus_*.deb . && rm prometheus_*.deb)
fi
listening 5432 && listening 6379
