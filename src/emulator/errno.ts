// Linux error numbers, as include/uapi/asm-generic/errno-base.h and errno.h number them, with
// the texts glibc's strerror gives them. One table for both halves of the machine: the host
// driver returns −E.EINVAL from an ioctl, the card's dd prints "No space left on device".
// Only the numbers the models use are listed; add a row when a model needs another.

const ERRNO = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EIO: [5, 'Input/output error'],
  ENXIO: [6, 'No such device or address'],
  ENOMEM: [12, 'Cannot allocate memory'],
  EFAULT: [14, 'Bad address'],
  EBUSY: [16, 'Device or resource busy'],
  ENODEV: [19, 'No such device'],
  EINVAL: [22, 'Invalid argument'],
  ENOSPC: [28, 'No space left on device'],
  EROFS: [30, 'Read-only file system'],
  ELOOP: [40, 'Too many levels of symbolic links'],
  EMSGSIZE: [90, 'Message too long'],
  EOPNOTSUPP: [95, 'Operation not supported'],
  EADDRINUSE: [98, 'Address already in use'],
  ENETDOWN: [100, 'Network is down'],
  ENETUNREACH: [101, 'Network is unreachable'],
  ENOBUFS: [105, 'No buffer space available'],
  ETIMEDOUT: [110, 'Connection timed out'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrnoName = keyof typeof ERRNO;

/** The numbers by name, positive as in errno-base.h: models return them negated (−E.EIO). */
export const E = Object.freeze(Object.fromEntries(Object.entries(ERRNO).map(([name, [n]]) => [name, n]))) as {
  readonly [K in ErrnoName]: (typeof ERRNO)[K][0];
};

const BY_NUMBER = new Map<number, { name: string; text: string }>(
  Object.entries(ERRNO).map(([name, [n, text]]) => [n, { name, text }]),
);

/** strerror of −errno or errno: "Input/output error"; "Unknown error N" for one not listed. */
export function strerror(err: number): string {
  return BY_NUMBER.get(Math.abs(err))?.text ?? `Unknown error ${Math.abs(err)}`;
}

/** −errno as the kernel log writes it: "-EIO"; the plain number for one not listed. */
export function errName(neg: number): string {
  const e = BY_NUMBER.get(-neg);
  return e ? `-${e.name}` : String(neg);
}
