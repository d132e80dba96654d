#!/usr/bin/env bash
# Builds the Debian package from a binary, with dpkg-deb (in every Debian and Ubuntu base
# system) rather than cargo-deb, which would have to be compiled on every CI run.
#
#   packaging/deb/build.sh BINARY [VERSION] [OUTDIR]     # prints the path of the .deb
#
# VERSION defaults to the binary's own (`alojamientos version`); OUTDIR to target/deb. The binary
# is packaged as given (the release workflow strips it first).
# DEB_COMPRESS (xz) picks dpkg-deb's compressor (the e2e test uses gzip: faster on a large
# debug binary). Needs dpkg-deb and help2man (for the man page).
#
# What goes where:
#   /usr/lib/alojamientos/alojamientos     the new binary, installed by the postinst through
#   /usr/lib/alojamientos/install.sh       systemd/install.sh into /opt/alojamientos/versions/
#   /usr/bin/alojamientos                  -> /opt/alojamientos/current/alojamientos
#   /lib/systemd/system/                   alojamientos.service (ExecStart=/usr/bin/alojamientos),
#                                          alojamientos.socket, alojamientos-https.socket,
#                                          alojamientos-http.socket
#   /etc/alojamientos/alojamientos.toml    conffile: config/alojamientos.toml
#   /etc/alojamientos/secrets.env          conffile, 0600: commented secret variables
#   /usr/share/man/man1/alojamientos.1.gz  help2man from --help
#   /usr/share/doc/alojamientos/           README, operations, RUNBOOK, Caddyfile, copyright
set -euo pipefail
cd "$(dirname "$0")/../.."

[ $# -ge 1 ] || { echo "usage: $0 BINARY [VERSION] [OUTDIR]" >&2; exit 2; }
bin=$(readlink -f "$1")
version=${2:-$("$bin" version | awk '{print $2}')}
out=${3:-target/deb}
compress=${DEB_COMPRESS:-xz}
for tool in dpkg-deb help2man; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin" "$root/usr/lib/alojamientos/alojamientos"
install -D -m 0755 systemd/install.sh "$root/usr/lib/alojamientos/install.sh"
mkdir -p "$root/usr/bin"
ln -s /opt/alojamientos/current/alojamientos "$root/usr/bin/alojamientos"

units=$root/lib/systemd/system
install -d "$units"
sed 's|/usr/local/bin/alojamientos|/usr/bin/alojamientos|g' systemd/alojamientos.service \
  >"$units/alojamientos.service"
install -m 0644 systemd/alojamientos.socket systemd/alojamientos-https.socket \
  systemd/alojamientos-http.socket "$units/"
chmod 0644 "$units/alojamientos.service"

install -D -m 0644 config/alojamientos.toml "$root/etc/alojamientos/alojamientos.toml"
install -D -m 0600 packaging/deb/secrets.env "$root/etc/alojamientos/secrets.env"

doc=$root/usr/share/doc/alojamientos
install -d "$doc"
install -m 0644 README.md RUNBOOK.md docs/operations.md config/Caddyfile "$doc/"
install -m 0644 packaging/deb/copyright "$doc/copyright"
man=$root/usr/share/man/man1
install -d "$man"
help2man --no-info --section=1 \
  --name="booking appliance for small accommodation hosts" \
  --version-string="$version" "$bin" | gzip -9n >"$man/alojamientos.1.gz"

install -d "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" packaging/deb/control.in \
  >"$root/DEBIAN/control"
printf '%s\n' /etc/alojamientos/alojamientos.toml /etc/alojamientos/secrets.env \
  >"$root/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"

mkdir -p "$out"
deb=$out/alojamientos_${version}_amd64.deb
dpkg-deb --root-owner-group -Z"$compress" --build "$root" "$deb" >/dev/null
echo "$deb"
