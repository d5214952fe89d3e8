#!/usr/bin/env sh
# Installs Debian's chromium for the web page's browser tests (driven by Python Playwright through
# executable_path; no browser is ever downloaded). Uses apt as root, or sudo without a password;
# where the OS has no apt it says so and leaves the browser tests to skip.
set -eu
# Chinese text needs a CJK font; Debian's chromium does not pull one in.
PACKAGES="chromium fonts-noto-cjk"
if command -v chromium >/dev/null 2>&1 && { ! command -v fc-list >/dev/null 2>&1 || fc-list :lang=zh | grep -q .; }; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get on this OS: install Chromium yourself and set TRACECHAIN_CHROMIUM; the browser tests skip until then" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "install-chromium: run as root (or with passwordless sudo) to install Debian's packages: apt-get install -y $PACKAGES" >&2
  exit 1
fi
echo "installing Debian's $PACKAGES for the browser tests"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
