#!/bin/sh
# Runs a command the way the packaged unit would, as far as this can be done without systemd (the
# tests' machines do not run it as PID 1). Run as root inside `unshare --mount`, so that no mount made
# here is seen outside:
#   ProtectSystem=strict  every mount read-only but /proc, /dev, the state directory and /tmp
#   ProtectKernelTunables, ProtectControlGroups  /proc/sys, /sys and the cgroup tree read-only
#   PrivateTmp, ProtectHome  an empty /tmp of its own; /home, /root and /run/user empty and read-only
#   User=, Group=, SupplementaryGroups=dialout  the user's groups, as the package set them
#   CapabilityBoundingSet=, AmbientCapabilities=CAP_NET_BIND_SERVICE, NoNewPrivileges=yes  through setpriv
#   UMask=  as the unit says
#   WorkingDirectory=  as the unit says
# The system call filter and the address families are the command's own part (seccomp-exec.py).
#
# usage: sandbox.sh USER STATE_DIR CONFIG_FILE UMASK WORKDIR COMMAND [ARG...]
# CONFIG_FILE is bound over /etc/stratum1/stratum1.yaml first (the test's configuration, read-only).
set -eu
user=$1 state=$2 config=$3 mask=$4 workdir=$5
shift 5

mount --make-rprivate /
mount --bind "$state" "$state"
mount --bind "$config" /etc/stratum1/stratum1.yaml
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
for d in /home /root /run/user; do
  if [ -d "$d" ]; then mount -t tmpfs -o ro,mode=0755 tmpfs "$d"; fi
done
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /
# Every other mount read-only too (/sys and the cgroups among them), but /proc, /dev, the state
# directory and the private /tmp.
awk '{ print $5 }' /proc/self/mountinfo | while read -r m; do
  case "$m" in
    /|/proc|/dev|/dev/*|/tmp|/run/netns/*|"$state") ;;
    *) mount -o remount,bind,ro "$m" 2>/dev/null || echo "sandbox: $m stays writable" >&2 ;;
  esac
done
# The read-only root is checked, as root, before the user is taken.
if touch /usr/.stratum1-sandbox-probe 2>/dev/null; then
  rm -f /usr/.stratum1-sandbox-probe
  echo 'sandbox: / is writable' >&2
  exit 1
fi
cd "$workdir"
umask "$mask"
exec setpriv --reuid "$user" --regid "$user" --init-groups --no-new-privs \
  --bounding-set -all,+net_bind_service --inh-caps -all,+net_bind_service --ambient-caps -all,+net_bind_service \
  -- "$@"
