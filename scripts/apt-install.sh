# Sourced by scripts/setup.sh and scripts/test.sh: apt_install PACKAGE PURPOSE installs Debian's
# package, as root; any other user is told the command to run, and the script stops.
apt_install() {
  echo "setup: installing Debian's $1 ($2)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: $1 is missing and this user cannot install it: run 'apt-get install $1' as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}
