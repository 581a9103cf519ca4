# shellcheck shell=bash
# Find or provision a Python >= 3.14.2; prints its path on stdout. Sourced by scripts/setup.

MIN_PYTHON="3.14.2"
PYTHON_PREFIX="${GCS_PYTHON_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/google_calendar_sync/python3.14}"
DEBIAN_PACKAGES=(
  python3.14-minimal libpython3.14-minimal libpython3.14-stdlib python3.14 python3.14-venv
  python3-pip-whl python3-setuptools-whl
  libc6 libssl3t64 libffi8 libsqlite3-0 libexpat1 zlib1g liblzma5 libbz2-1.0 libzstd1
  libmpdec4 libncursesw6 libtinfo6 libreadline8t64 libuuid1 libgdbm6t64 libgdbm-compat4t64
  libdb5.3t64 libcrypt1
)

python_is_recent() {
  "$1" -c "import sys, ssl, sqlite3, zoneinfo, venv; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)" >/dev/null 2>&1
}

find_python() {
  local candidate
  for candidate in "${GCS_PYTHON:-}" "$PYTHON_PREFIX/usr/bin/python3.14" python3.14 python3.15 python3; do
    [ -n "$candidate" ] || continue
    candidate=$(command -v "$candidate" 2>/dev/null) || continue
    if python_is_recent "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  local version
  for version in "$HOME"/.pyenv/versions/3.1[4-9]*/bin/python3; do
    [ -x "$version" ] && python_is_recent "$version" && { echo "$version"; return 0; }
  done
  return 1
}

debian_mirror() {
  # Reuse the host's own Debian mirror (deb822 or one-line format).
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -n1)
  echo "${uri:-http://deb.debian.org/debian}"
}

provision_python() {
  command -v apt-get >/dev/null || { echo "error: no Python >= $MIN_PYTHON found and no apt-get to provision one; install Python >= $MIN_PYTHON" >&2; return 1; }
  command -v dpkg >/dev/null || { echo "error: dpkg is missing; install Python >= $MIN_PYTHON" >&2; return 1; }
  if ! command -v patchelf >/dev/null; then
    echo "setup: installing patchelf" >&2
    if [ "$(id -u)" = 0 ]; then
      (apt-get install -y -qq patchelf >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq patchelf >/dev/null; }) \
        || { echo "error: patchelf is missing; install it with: apt-get install patchelf" >&2; return 1; }
    else
      echo "error: patchelf is missing; install it with: sudo apt-get install patchelf" >&2
      return 1
    fi
  fi
  echo "setup: provisioning Python 3.14 from Debian testing into $PYTHON_PREFIX (one time)" >&2
  local work
  work=$(mktemp -d)
  mkdir -p "$work"/{lists/partial,archives/partial,state,debs}
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) testing main" >"$work/sources.list"
  local apt_options=(
    -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State=$work/state" -o "Dir::State::Lists=$work/lists" -o Dir::State::status=/dev/null
    -o "Dir::Cache=$work" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
  )
  apt-get "${apt_options[@]}" -qq update >&2 || { echo "error: could not read Debian testing package lists" >&2; return 1; }
  (cd "$work/debs" && apt-get "${apt_options[@]}" -qq download "${DEBIAN_PACKAGES[@]}" >&2) \
    || { echo "error: could not download the Python 3.14 packages" >&2; return 1; }
  rm -rf "$PYTHON_PREFIX.partial"
  mkdir -p "$PYTHON_PREFIX.partial"
  local deb
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$PYTHON_PREFIX.partial"; done
  local lib="$PYTHON_PREFIX/usr/lib/x86_64-linux-gnu"
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" \
    "$PYTHON_PREFIX.partial/usr/bin/python3.14"
  rm -rf "$PYTHON_PREFIX" && mv "$PYTHON_PREFIX.partial" "$PYTHON_PREFIX"
  rm -rf "$work"
  python_is_recent "$PYTHON_PREFIX/usr/bin/python3.14" \
    || { echo "error: the provisioned Python does not start; install Python >= $MIN_PYTHON" >&2; return 1; }
  echo "$PYTHON_PREFIX/usr/bin/python3.14"
}
