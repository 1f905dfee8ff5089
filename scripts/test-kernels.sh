#!/bin/bash
# The kernel matrix: boots Debian 12's own kernel package under qemu
# (software emulation, no KVM needed), with this machine's root filesystem
# shared read-only into the guest, and runs the sensor's kernel tests there
# with the build the host made. The host kernel runs the same tests in
# `make test`.
#
#   scripts/test-kernels.sh --tests NETLOF_TESTS --filter '[kernels]' --work DIR
#
# KERNEL_PACKAGE=linux-image-6.1.0-NN-amd64-unsigned picks another package;
# by default it is the one Debian 12's linux-image-amd64 depends on now
# (security updates move it). Downloads are kept in DIR/cache.
set -euo pipefail

tests= filter= work=
guest_timeout=${GUEST_TIMEOUT:-2400}  # seconds the guest may run before it is stopped
while [ $# -gt 0 ]; do
	case "$1" in
	--tests) tests=$(realpath "$2"); shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	*) echo "test-kernels: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -x "$tests" ] || { echo "test-kernels: --tests must name the built test binary" >&2; exit 2; }
[ -n "$work" ] || { echo "test-kernels: --work DIR is required" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "test-kernels: needs root (the guest runs the host's files as root)" >&2; exit 2; }
for tool in qemu-system-x86_64 busybox dpkg-deb apt-get; do
	command -v "$tool" >/dev/null || { echo "test-kernels: $tool is missing (make deps installs it)" >&2; exit 2; }
done
source_dir=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work/cache"
work=$(realpath "$work")

# ---- the kernel package ---------------------------------------------------
package=${KERNEL_PACKAGE:-}
# The ABI (6.1.0-NN) of the kernel linux-image-amd64 depends on, from apt's lists.
current_abi() {
	apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\(.*\)-amd64$/\1/p' | head -1
}
if [ -z "$package" ]; then
	abi=$(current_abi)
	[ -n "$abi" ] || { apt-get update -qq && abi=$(current_abi); }
	[ -n "$abi" ] || { echo "test-kernels: failed to find Debian's current kernel: apt-cache depends linux-image-amd64 names none" >&2; exit 1; }
	package=linux-image-$abi-amd64-unsigned
fi
kernel_dir=$work/cache/$package
if [ ! -f "$kernel_dir/.extracted" ]; then
	rm -rf "$kernel_dir" && mkdir -p "$kernel_dir"
	echo "  KERNEL   downloading $package"
	(cd "$kernel_dir" && apt-get download -qq -o APT::Sandbox::User=root "$package") ||
		{ apt-get update -qq && (cd "$kernel_dir" && apt-get download -qq -o APT::Sandbox::User=root "$package"); } ||
		{ echo "test-kernels: failed to download $package from the Debian archive" >&2; exit 1; }
	dpkg-deb -x "$kernel_dir"/*.deb "$kernel_dir/root"
	rm -f "$kernel_dir"/*.deb
	touch "$kernel_dir/.extracted"
fi
vmlinuz=$(ls "$kernel_dir"/root/boot/vmlinuz-* | head -1)
release=${vmlinuz##*/vmlinuz-}
modules=$kernel_dir/root/lib/modules/$release

# ---- the initramfs: busybox, the virtio and 9p modules, /init ---------------
run=$work/run
rm -rf "$run" && mkdir -p "$run/initramfs/bin" "$run/initramfs/modules" "$run/results"
cp "$(command -v busybox)" "$run/initramfs/bin/busybox"
ldd "$run/initramfs/bin/busybox" >/dev/null 2>&1 && { echo "test-kernels: busybox is not static (install busybox-static)" >&2; exit 2; }
# In load order: each needs the ones before it. The guest's root is the
# host's, which has no /lib/modules for this kernel to load modules from on
# demand: the sock_diag modules a Debian 12 host would load on first use
# (netlof lists open UDP sockets through them) are loaded here.
load_order=
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio \
	fs/netfs/netfs fs/fscache/fscache fs/9p/9p net/ipv4/inet_diag net/ipv4/tcp_diag net/ipv4/udp_diag; do
	# Built into some kernels, a module in others.
	[ -f "$modules/kernel/$m.ko" ] || continue
	cp "$modules/kernel/$m.ko" "$run/initramfs/modules/"
	load_order="$load_order ${m##*/}"
done
results=$run/results
cat > "$run/initramfs/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in$load_order; do insmod /modules/\$m.ko; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot || { echo "guest: failed to mount the host's root"; echo o > /proc/sysrq-trigger; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /newroot$results
for d in tmp run dev/shm var/tmp; do mount -t tmpfs tmpfs /newroot/\$d; done
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /bin/bash $results/guest.sh
EOF
chmod 0755 "$run/initramfs/init"

# What the guest runs once it is in the host's root: the tests, their output
# and exit status into the results share, then power off.
cat > "$results/guest.sh" <<EOF
#!/bin/bash
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up
hostname netlof-guest
export CI=true PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TMPDIR=/tmp
cd $source_dir
{
	echo "guest: kernel \$(uname -r), \$(nproc) CPUs; kernel config files: \$(ls /boot/config-\$(uname -r) /proc/config.gz 2>&1 | tr '\n' ' ')"
	$tests $(printf '%q' "$filter") 2>&1
	echo \$? > $results/rc
} > $results/tests.log 2>&1
sync
echo o > /proc/sysrq-trigger
sleep 60
EOF

(cd "$run/initramfs" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$run/initramfs.cpio.gz"

# ---- boot -----------------------------------------------------------------
echo "  QEMU     $release (software emulation), tests $filter"
start=$(date +%s)
set +e
timeout --kill-after=10 "$guest_timeout" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 3072 -smp 2 \
	-kernel "$vmlinuz" -initrd "$run/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 mitigations=off" \
	-fsdev local,id=hostroot,path=/,readonly=on,security_model=passthrough,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=results,path="$results",security_model=passthrough \
	-device virtio-9p-pci,fsdev=results,mount_tag=results \
	-nic none -nographic -no-reboot -monitor none -serial file:"$run/console.log" </dev/null
qemu_rc=$?
set -e
elapsed=$(($(date +%s) - start))
[ -f "$results/tests.log" ] && cat "$results/tests.log"
if [ ! -f "$results/rc" ]; then
	echo "test-kernels: $release: the guest did not finish (qemu exit $qemu_rc after ${elapsed} s); its console:" >&2
	tail -40 "$run/console.log" >&2
	exit 1
fi
rc=$(cat "$results/rc")
echo "test-kernels: $release: tests exited $rc in ${elapsed} s under qemu"
exit "$rc"
