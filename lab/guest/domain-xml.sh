#!/usr/bin/env bash
# Print the libvirt domain XML of a lab TEST GUEST named NAME (must start with "kvmst-"):
# q35, type='qemu' (TCG), 256 MiB, 1 vCPU, direct kernel boot with kernel.sh's kernel and
# initrd.sh's initramfs, serial console to /var/log/kvmst-lab/NAME.console.log, six
# pcie-root-port controllers, a qemu-xhci USB controller, no disk, no network.
#
#   lab/guest/domain-xml.sh kvmst-g1 > g1.xml && virsh define g1.xml && virsh start kvmst-g1
#
# Environment: KVMST_GUEST_MEMORY_MIB (256), KVMST_GUEST_ROOT_PORTS (6),
# KVMST_GUEST_CONSOLE_LOG (path of the console log).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/guest/common.sh
source "$HERE/common.sh"

NAME="${1:-}"
[[ "$NAME" =~ ^kvmst-[A-Za-z0-9._-]+$ ]] ||
    kvmst_die "usage: $0 kvmst-NAME (the name must start with 'kvmst-' and use [A-Za-z0-9._-])"
MEM="${KVMST_GUEST_MEMORY_MIB:-256}"
PORTS="${KVMST_GUEST_ROOT_PORTS:-6}"
CONSOLE_LOG="${KVMST_GUEST_CONSOLE_LOG:-$KVMST_LOG_DIR/$NAME.console.log}"

eval "$("$HERE/initrd.sh")"

root_ports=""
for ((i = 0; i < PORTS; i++)); do
    root_ports+="    <controller type='pci' model='pcie-root-port'/>"$'\n'
done

# no_timer_check: early in boot the kernel checks that timer interrupts arrive during a
# busy wait of ~70 ms (counted in the host's TSC under TCG) and, after three tries, panics
# ("IO-APIC + timer doesn't work!"). On a loaded host (a VM host and two test workers on two
# cores) qemu's timer thread can miss those windows; panic=-1 then reboots and
# on_reboot=destroy ends the guest. A test guest once ended 7 s into its boot with libvirt's
# reason "shutdown" (its console was lost with the test's folder); this check is the boot
# step that depends on host load, and it guards against broken hardware, not qemu's.
cat <<EOF
<domain type='qemu'>
  <name>$NAME</name>
  <description>kvmst lab test guest (lab/guest/domain-xml.sh)</description>
  <memory unit='MiB'>$MEM</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$KVMST_KERNEL</kernel>
    <initrd>$KVMST_INITRD</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=4 no_timer_check</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='pci' model='pcie-root'/>
$root_ports    <controller type='usb' model='qemu-xhci'/>
    <serial type='file'>
      <source path='$CONSOLE_LOG'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$CONSOLE_LOG'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
