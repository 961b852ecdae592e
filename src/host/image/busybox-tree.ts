// The files of the default root image: static busybox, its applet links and a minimal /etc that boots
// busybox init to a login prompt on the console. Described as data so the image hash covers all of it.

/** Bump when anything below changes: it is part of the image's content hash. */
export const BUSYBOX_RECIPE_VERSION = 1;

export interface TreeFile {
  readonly path: string;
  readonly mode: number;
  readonly content: string;
}

export const BUSYBOX_DIRS: readonly { path: string; mode: number }[] = [
  ...[
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'etc',
    'etc/init.d',
    'proc',
    'sys',
    'dev',
    'root',
    'mnt',
    'run',
    'var',
    'var/log',
    'home',
  ].map((path) => ({ path, mode: 0o755 })),
  { path: 'tmp', mode: 0o1777 },
];

export const BUSYBOX_FILES: readonly TreeFile[] = [
  { path: 'etc/passwd', mode: 0o644, content: 'root:x:0:0:root:/root:/bin/sh\n' },
  { path: 'etc/shadow', mode: 0o600, content: 'root::19000:0:99999:7:::\n' },
  { path: 'etc/group', mode: 0o644, content: 'root:x:0:\ntty:x:5:\n' },
  { path: 'etc/hostname', mode: 0o644, content: 'umlkit\n' },
  { path: 'etc/hosts', mode: 0o644, content: '127.0.0.1 localhost\n127.0.1.1 umlkit\n' },
  {
    path: 'etc/profile',
    mode: 0o644,
    content:
      'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1="\\h:\\w\\$ "\n',
  },
  {
    path: 'etc/inittab',
    mode: 0o644,
    content: [
      '::sysinit:/etc/init.d/rcS',
      '::respawn:/sbin/getty -L 0 console vt100',
      '::ctrlaltdel:/sbin/poweroff',
      '::shutdown:/bin/umount -a -r',
      '',
    ].join('\n'),
  },
  {
    path: 'etc/init.d/rcS',
    mode: 0o755,
    content: [
      '#!/bin/sh',
      '# Mounts may already be there when the umlkit agent prepared the root: ignore "busy".',
      'mount -t proc proc /proc 2>/dev/null',
      'mount -t sysfs sysfs /sys 2>/dev/null',
      'mount -t devtmpfs devtmpfs /dev 2>/dev/null',
      'mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null',
      'hostname -F /etc/hostname',
      'ifconfig lo 127.0.0.1 up 2>/dev/null',
      '',
    ].join('\n'),
  },
];
