#!/usr/bin/env bash
# System packages the test suite needs besides pip packages: Chromium for the report's browser
# test. Installed with apt-get when running as root (CI); otherwise the browser test is skipped
# with a message saying how to install it.
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium for the report's browser test (apt-get) ..."
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >/tmp/kpi-apt.log 2>&1 \
    || { echo "could not install chromium (see /tmp/kpi-apt.log); the browser test will be skipped"; }
fi
exit 0
