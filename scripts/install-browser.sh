#!/usr/bin/env bash
# Installs Debian's Chromium (and a colour emoji font) for the browser tests of the Slack emulator page.
# Idempotent: does nothing when /usr/bin/chromium exists. Uses apt-get when run as root, sudo -n otherwise;
# when neither can install, says so and exits 0 so the browser tests skip with that reason.
set -u
CHROMIUM=/usr/bin/chromium
PACKAGES=(chromium fonts-noto-color-emoji)

if [ -x "$CHROMIUM" ]; then
  echo "install-browser: $CHROMIUM is already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium at $CHROMIUM yourself to run the browser tests"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "install-browser: not root and no password-less sudo; run: sudo apt-get install -y ${PACKAGES[*]}"
  exit 0
fi
echo "install-browser: installing ${PACKAGES[*]} with apt-get (takes a few minutes the first time)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || echo "install-browser: apt-get update failed"
if ! "${SUDO[@]}" apt-get install -y -qq "${PACKAGES[@]}" >/dev/null; then
  echo "install-browser: apt-get could not install ${PACKAGES[*]}; the browser tests will be skipped"
  exit 0
fi
[ -x "$CHROMIUM" ] && echo "install-browser: installed $("$CHROMIUM" --version 2>/dev/null)"
exit 0
