#!/usr/bin/env bash
# Build (once) the lab's second nested VM host, Debian 13 (trixie: kernel 6.12, systemd,
# Python 3.13, qemu 10, libvirt 11): the steps of lab/vmhost/build-lib.sh with trixie's
# own kernel (lab/guest/kernel.sh with KVMST_KERNEL_SUITE=trixie).
#
# Unlike the Debian 12 image, libvirt is NOT installed here: the tests install it with the
# kvm.storage.hypervisor role, as users do. To keep that run affordable under TCG (an
# earlier try that installed everything inside the VM host took ~25 min), the image
#   - pre-installs, in the chroot at native speed, every package the role's Debian
#     transaction (vars/Debian.yml: base + lvm_thin profile, recommends as apt installs
#     them) would install EXCEPT libvirt's own (libvirt0, libvirt-*, python3-libvirt):
#     qemu-system-x86, qemu-utils, their libraries, lvm2, thin-provisioning-tools,
#     python3-lxml, zstd, xorriso, dnsmasq-base, ...;
#   - keeps apt's package lists and has those libvirt .debs downloaded into apt's cache
#     (apt-get install --download-only), so the role's install inside is a real apt
#     transaction that needs no network and unpacks libvirt only;
#   - adds python3-apt (Ansible's apt module needs it, check mode included).
#
# Cached in /var/cache/kvmst-lab/vmhost13/<hash>/ (build-lib.sh and this script, the
# role's Debian package list, the kernel). Prints the KVMST_VMHOST_* lines of build.sh.
# Noisy output: /var/log/kvmst-lab/vmhost13-build.log.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/build-lib.sh
source "$HERE/build-lib.sh"

SUITE=trixie
VMHOST_NAME=kvmst-vmhost13
# e2fsprogs: Debian 12's minbase has it, 13's not (the scenarios make ext4 file systems).
DEBOOTSTRAP_PACKAGES="lvm2,thin-provisioning-tools,python3,python3-apt,openssh-server,openssh-sftp-server,kmod,udev,systemd-sysv,iproute2,ifupdown,isc-dhcp-client,procps,e2fsprogs"
ROLE_VARS="$HERE/../../roles/hypervisor/vars/Debian.yml"

# role_packages: the role's Debian base packages and its lvm_thin profile's, from its vars file.
role_packages() {
    awk '
        /^__hypervisor_base_packages:/ { base = 1; next }
        base && /^  - / { sub(/#.*/, ""); print $2; next }
        base { base = 0 }
        /^  lvm_thin: *\[/ { s = $0; sub(/.*\[/, "", s); sub(/\].*/, "", s); gsub(/,/, " ", s); print s }
    ' "$ROLE_VARS" | tr -s ' \n' '  ' | sed 's/ *$//'
}
ROLE_PACKAGES="$(role_packages)"
[[ " $ROLE_PACKAGES " == *" libvirt-daemon-system "* && " $ROLE_PACKAGES " == *" lvm2 "* ]] ||
    kvmst_die "could not read the hypervisor role's Debian packages from $ROLE_VARS (got: '$ROLE_PACKAGES')"
# libvirt's own packages: left to the role (downloaded, not installed).
LIBVIRT_RE='^(libvirt[-0-9a-z.+]*|python3-libvirt)$'
RECIPE_EXTRA="role_packages=$ROLE_PACKAGES
left_to_the_role=$LIBVIRT_RE"

# The packages the role's transaction would install on the image as it is now, one a line
# (apt's defaults: recommends on).
role_would_install() {
    # shellcheck disable=SC2086
    chroot "$ROOT" env LC_ALL=C apt-get -s install $ROLE_PACKAGES 2>>"$LOG" | awk '$1 == "Inst" { print $2 }'
}

recipe_packages() {
    local sim=() pre=() left=() deps=() p
    kvmst_info "pre-installing the role's packages but libvirt, downloading libvirt's (in the chroot)"
    mapfile -t sim < <(role_would_install)
    ((${#sim[@]} > 0)) || kvmst_die "apt-get -s install $ROLE_PACKAGES in the chroot printed no package" "$LOG"
    for p in "${sim[@]}"; do
        if [[ "$p" =~ $LIBVIRT_RE ]]; then left+=("$p"); else pre+=("$p"); fi
    done
    printf '\nthe role would install %d packages; pre-installed %d, left to the role: %s\n' \
        "${#sim[@]}" "${#pre[@]}" "${left[*]}" >>"$LOG"
    in_chroot apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${pre[@]}" ||
        kvmst_die "apt-get install (the role's packages but libvirt) in the chroot failed" "$LOG"
    # What the role names stays manually installed; the rest is a dependency, as after its run.
    for p in "${pre[@]}"; do
        [[ " $ROLE_PACKAGES " == *" $p "* ]] || deps+=("$p")
    done
    in_chroot apt-mark auto "${deps[@]}" || kvmst_die "apt-mark auto in the chroot failed" "$LOG"
    in_chroot apt-get clean
    # shellcheck disable=SC2086
    in_chroot apt-get "${APT_OPTS[@]}" install -y --download-only $ROLE_PACKAGES ||
        kvmst_die "apt-get install --download-only $ROLE_PACKAGES in the chroot failed" "$LOG"
    # The role's transaction on the booted image: exactly the libvirt packages, all cached.
    mapfile -t sim < <(role_would_install)
    [[ "$(printf '%s\n' "${sim[@]}" | sort)" == "$(printf '%s\n' "${left[@]}" | sort)" ]] ||
        kvmst_die "after the pre-install the role would install '${sim[*]}', expected '${left[*]}'" "$LOG"
    for p in "${left[@]}"; do
        compgen -G "$ROOT/var/cache/apt/archives/${p}_*.deb" >/dev/null ||
            kvmst_die "no downloaded .deb of $p in the image's apt cache" "$LOG"
    done
    # For lab/vmhost/smoke.sh: what the role asks apt for, and what apt then installs.
    mkdir -p "$ROOT/etc/kvmst-lab"
    echo "$ROLE_PACKAGES" >"$ROOT/etc/kvmst-lab/role-packages"
    printf '%s\n' "${left[@]}" >"$ROOT/etc/kvmst-lab/role-installs"
}

recipe_configure() {
    # No apt run of its own in the VM host: apt-daily would fetch lists over the network
    # and could hold dpkg's lock while the role installs libvirt.
    ln -sfn /dev/null "$ROOT/etc/systemd/system/apt-daily.timer"
    ln -sfn /dev/null "$ROOT/etc/systemd/system/apt-daily-upgrade.timer"
    # /etc and /var are as new as /usr: no ldconfig.service and systemd-update-done.service at
    # every boot (13 s of TCG time under load; ConditionNeedsUpdate compares these files' times).
    touch "$ROOT/etc/.updated" "$ROOT/var/.updated"
}

vmhost_build_main
