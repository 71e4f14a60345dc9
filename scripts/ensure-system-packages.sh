#!/usr/bin/env bash
# What the tests need from Debian: Chromium and a CJK font for the browser tests, gettext for
# the check that every UI string is translated, SIPp for the SIP redirect server's tests (Debian
# ships /usr/bin/sipp in the package `sip-tester`). Installed where we can (root with apt-get);
# elsewhere those tests skip with a message (and fail under CI=true).
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
command -v xgettext >/dev/null || missing+=(gettext)
[ -x /usr/bin/sipp ] || missing+=(sip-tester)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing from Debian for the tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null \
    || echo "Could not install ${missing[*]}; the tests that need them will skip (fail under CI=true)."
else
  echo "Missing ${missing[*]} and cannot install here (need root and apt-get): the tests that"
  echo "need them will skip. Install with: apt-get install -y ${missing[*]}"
fi
exit 0
