# Installs tools from Debian when they are missing; sourced by test/run.sh and scripts/stack.sh.
# A tool that cannot be installed is reported with what will fail without it (nothing is skipped silently).

apt() { DEBIAN_FRONTEND=noninteractive apt-get -qq -o APT::Sandbox::User=root "$@"; }
can_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && return 0
  echo "$1 is missing and installing it needs root and apt-get; $2 will fail" >&2
  return 1
}

# One binary out of a Debian package, without installing the package: no service is installed or started.
# Data files the binary reads at run time (paths under /, e.g. usr/share/prometheus/alertmanager) come too.
binary_from_deb() { # binary package test [data-path...]
  local bin="$1" pkg="$2" test="$3" path missing=0
  shift 3
  for path in "$@"; do [ -e "/$path" ] || missing=1; done
  command -v "$bin" >/dev/null 2>&1 && [ "$missing" = 0 ] && return 0
  echo "== installing $bin (Debian package $pkg)"
  can_install "$bin" "$test" || return 0
  local tmp
  tmp="$(mktemp -d)"
  if (cd "$tmp" && { apt download "$pkg" 2>/dev/null || { apt update && apt download "$pkg"; }; } \
      && dpkg -x "$pkg"_*.deb root && install -m 0755 "root/usr/bin/$bin" "/usr/local/bin/$bin" \
      && for path in "$@"; do mkdir -p "/$(dirname "$path")" && cp -r "root/$path" "/$path"; done); then
    "$bin" --version 2>&1 | sed -n 1p
  else
    echo "could not install $bin; $test will fail" >&2
  fi
  rm -rf "$tmp"
}

# Whole Debian packages, when `check` fails.
packages() { # check "packages" test
  eval "$1" && return 0
  echo "== installing $2 (Debian)"
  can_install "$2" "$3" || return 0
  apt -y install $2 >/dev/null || { apt update && apt -y install $2 >/dev/null; } || echo "could not install $2; $3 will fail" >&2
}
