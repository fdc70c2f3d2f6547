#!/usr/bin/env bash
# Install the Debian packages the station needs, only those that are missing.
#   libusb-1.0-0  the RealSense Python bindings load it at import
#   g++           builds the package's C++ extension
#   python3-dev   Python headers for that build (skipped when the interpreter has its own)
#   espeak-ng     spoken cues (optional for the station; the tests speak to a file)
#   xvfb, x11-apps  a virtual screen and xwd, for the test that screenshots the coaching window
set -euo pipefail

missing=()
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || missing+=(libusb-1.0-0)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
py="${1:-python3}"
inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$inc/Python.h" ] || missing+=(python3-dev)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xwd >/dev/null 2>&1 || missing+=(x11-apps)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
