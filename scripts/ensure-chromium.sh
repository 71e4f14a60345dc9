#!/usr/bin/env bash
# Browser tests drive Debian's Chromium. Install it where we can (root with apt-get);
# elsewhere the browser tests skip with a message (and fail under CI=true).
set -u
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's Chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
    || echo "Could not install Chromium; browser tests will be skipped (or fail under CI=true)."
else
  echo "Chromium is not installed and cannot be installed here (need root and apt-get):"
  echo "browser tests will be skipped. Install it with: apt-get install -y chromium fonts-wqy-microhei"
fi
exit 0
