/**
 * The jail's seccomp filter: a classic-BPF program, as bubblewrap's `--seccomp FD` reads it
 * (an array of `struct sock_filter`, 8 bytes each, little-endian), that refuses the syscalls a
 * function never needs and allows everything else. A refused call fails with EPERM, which
 * programs already handle as "not allowed here", rather than killing the process.
 *
 * One program serves x86_64 and aarch64 hosts: it branches on `seccomp_data.arch` first,
 * because syscall numbers differ between ABIs. A call made through any other ABI (i386 via
 * `int 0x80` on x86_64, x32, 32-bit arm) kills the process: those numbers mean different
 * syscalls (i386's 21 is mount, x86_64's is access), so a filter written for one ABI would
 * let the other through, which is the classic way around a seccomp filter. Kill rather than
 * ENOSYS because no function is built for a foreign ABI, so such a call is an escape attempt
 * or a binary that cannot work; and a process whose every syscall, exit included, fails does
 * not end cleanly, whereas SIGSYS shows up as a crash that says what happened.
 *
 * Allowed syscalls cost nothing per call: since Linux 5.11 the kernel notices that their
 * outcome depends on the number alone and caches "allow" in a bitmap, so the linear list of
 * comparisons below only runs for the calls it refuses and for clone and personality.
 */

/** Syscalls refused with EPERM on every arch that has them, grouped by why. */
export const REFUSED_SYSCALLS = {
  /** The filesystem view is the platform's: a function mounting over it could hide or replace files. */
  filesystemView: [
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
  ],
  /** New namespaces are where most unprivileged kernel exploits start; joining one leaves the jail. */
  namespaces: ["unshare", "setns"],
  /** Reading or steering another process: the sandbox's other processes are the runtime's. */
  otherProcesses: ["ptrace", "process_vm_readv", "process_vm_writev"],
  /** Loading code into the kernel or replacing it. */
  kernelCode: ["kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "bpf"],
  /**
   * Large kernel attack surface a function has no use for, behind many recent exploits:
   * userfaultfd stalls the kernel mid-copy to win races, perf events and io_uring have a long
   * history of privilege escalations (libuv falls back to the thread pool without io_uring).
   */
  exploitSurface: ["userfaultfd", "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register"],
  /** The kernel keyring is not namespaced: keys could leak between instances of one uid. */
  keyring: ["keyctl", "add_key", "request_key"],
  /** The machine's, not the function's: clock, swap, power, accounting, kernel log, quotas, I/O ports. */
  machine: [
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "quotactl",
    "vhangup",
    "iopl",
    "ioperm",
  ],
  /** File handles open any file of a filesystem by inode, past the mount tree that hides it. */
  fileHandles: ["open_by_handle_at", "name_to_handle_at"],
  /** Obsolete: gone from current kernels or never used; refused in case an old kernel has them. */
  obsolete: ["lookup_dcookie", "nfsservctl", "uselib", "_sysctl"],
} as const;

/** Syscalls refused only in part, and how. */
export const PARTLY_REFUSED_SYSCALLS = {
  clone:
    "EPERM when its flags ask for a new namespace (CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP)",
  clone3:
    "always ENOSYS: its flags are in memory a filter cannot read, and glibc falls back to clone on ENOSYS",
  personality:
    "EPERM for any persona but PER_LINUX (0) and the query 0xffffffff: the others disable ASLR or make memory executable",
} as const;

type RefusedName = (typeof REFUSED_SYSCALLS)[keyof typeof REFUSED_SYSCALLS][number];
type SyscallName = RefusedName | keyof typeof PARTLY_REFUSED_SYSCALLS;

/**
 * [x86_64, aarch64] numbers, from the kernel's arch/x86/entry/syscalls/syscall_64.tbl and the
 * generic table aarch64 uses (include/uapi/asm-generic/unistd.h); null where the arch has no
 * such syscall. Numbers of removed syscalls stay reserved, so refusing them is harmless.
 */
const SYSCALL_NUMBERS: Readonly<Record<SyscallName, readonly [number, number | null]>> = {
  mount: [165, 40],
  umount2: [166, 39],
  pivot_root: [155, 41],
  chroot: [161, 51],
  mount_setattr: [442, 442],
  move_mount: [429, 429],
  open_tree: [428, 428],
  fsopen: [430, 430],
  fsconfig: [431, 431],
  fsmount: [432, 432],
  fspick: [433, 433],
  unshare: [272, 97],
  setns: [308, 268],
  ptrace: [101, 117],
  process_vm_readv: [310, 270],
  process_vm_writev: [311, 271],
  kexec_load: [246, 104],
  kexec_file_load: [320, 294],
  init_module: [175, 105],
  finit_module: [313, 273],
  delete_module: [176, 106],
  bpf: [321, 280],
  userfaultfd: [323, 282],
  perf_event_open: [298, 241],
  io_uring_setup: [425, 425],
  io_uring_enter: [426, 426],
  io_uring_register: [427, 427],
  keyctl: [250, 219],
  add_key: [248, 217],
  request_key: [249, 218],
  reboot: [169, 142],
  swapon: [167, 224],
  swapoff: [168, 225],
  acct: [163, 89],
  settimeofday: [164, 170],
  clock_settime: [227, 112],
  clock_adjtime: [305, 266],
  adjtimex: [159, 171],
  syslog: [103, 116],
  quotactl: [179, 60],
  vhangup: [153, 58],
  iopl: [172, null],
  ioperm: [173, null],
  open_by_handle_at: [304, 265],
  name_to_handle_at: [303, 264],
  lookup_dcookie: [212, 18],
  nfsservctl: [180, 42],
  uselib: [134, null],
  _sysctl: [156, null],
  clone: [56, 220],
  clone3: [435, 435],
  personality: [135, 92],
};

/** `AUDIT_ARCH_*` values the kernel puts in `seccomp_data.arch`. */
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
/** x32 syscalls arrive as x86_64 ones with this bit set in the number (so does nr -1, which no libc makes). */
const X32_SYSCALL_BIT = 0x40000000;

/** Byte offsets in `struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }`. */
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
/**
 * The low 32 bits of args[0]; both arches matched are little-endian. clone's flags and
 * personality's persona are both args[0] on both arches (aarch64's clone swaps only the
 * last two arguments), and the kernel reads only their low 32 bits.
 */
const ARG0_LOW_OFFSET = 16;

/**
 * CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. Not CLONE_NEWTIME
 * (0x80): clone's low byte is the exit signal, so NEWTIME can only be asked for through
 * clone3 (ENOSYS) or unshare (EPERM), and matching 0x80 would refuse an exit-signal bit instead.
 */
const CLONE_NEW_NAMESPACE_FLAGS =
  0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
const PER_LINUX = 0;
const PERSONALITY_QUERY = 0xffffffff;

const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

/** The kernel's limit on a filter's length (BPF_MAXINSNS). */
export const MAX_INSTRUCTIONS = 4096;
const INSTRUCTION_BYTES = 8;

// Classic BPF opcodes: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_J*|BPF_K, BPF_RET|BPF_K.
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JSET_K = 0x45;
const RET_K = 0x06;

/** A jump target: a label, or "next" to fall through to the following instruction. */
type Target = string;
interface Instruction {
  readonly code: number;
  readonly jt: Target;
  readonly jf: Target;
  readonly k: number;
}
type Line = Instruction | { readonly label: string };

const load = (offset: number): Line => ({ code: LD_W_ABS, jt: "next", jf: "next", k: offset });
const jumpIfEqual = (k: number, jt: Target, jf: Target): Line => ({ code: JEQ_K, jt, jf, k });
const jumpIfAnyBit = (k: number, jt: Target, jf: Target): Line => ({ code: JSET_K, jt, jf, k });
const ret = (k: number): Line => ({ code: RET_K, jt: "next", jf: "next", k });
const label = (name: string): Line => ({ label: name });

/** The filter program, ready for `bwrap --seccomp FD`. */
export function seccompProgram(): Buffer {
  return assemble([
    load(ARCH_OFFSET),
    jumpIfEqual(AUDIT_ARCH_X86_64, "next", "not-x86_64"),
    load(NR_OFFSET),
    jumpIfAnyBit(X32_SYSCALL_BIT, "kill", "next"),
    ...archRules("x86_64", 0),
    label("not-x86_64"),
    jumpIfEqual(AUDIT_ARCH_AARCH64, "next", "kill"),
    load(NR_OFFSET),
    ...archRules("aarch64", 1),
    label("kill"),
    ret(SECCOMP_RET_KILL_PROCESS),
  ]);
}

/** One arch's rules, entered with the syscall number in A; labels are prefixed by the arch. */
function archRules(arch: string, column: 0 | 1): Line[] {
  const nr = (name: SyscallName): number => SYSCALL_NUMBERS[name][column]!;
  const at = (name: string): string => `${arch}-${name}`;
  const refused = Object.values(REFUSED_SYSCALLS)
    .flat()
    .map((name) => SYSCALL_NUMBERS[name][column])
    .filter((n): n is number => n !== null);
  return [
    ...refused.map((n) => jumpIfEqual(n, at("eperm"), "next")),
    jumpIfEqual(nr("clone3"), at("enosys"), "next"),
    jumpIfEqual(nr("clone"), at("clone"), "next"),
    jumpIfEqual(nr("personality"), at("personality"), at("allow")),
    label(at("clone")),
    load(ARG0_LOW_OFFSET),
    jumpIfAnyBit(CLONE_NEW_NAMESPACE_FLAGS, at("eperm"), at("allow")),
    label(at("personality")),
    load(ARG0_LOW_OFFSET),
    jumpIfEqual(PER_LINUX, at("allow"), "next"),
    jumpIfEqual(PERSONALITY_QUERY, at("allow"), at("eperm")),
    label(at("allow")),
    ret(SECCOMP_RET_ALLOW),
    label(at("eperm")),
    ret(SECCOMP_RET_ERRNO | EPERM),
    label(at("enosys")),
    ret(SECCOMP_RET_ERRNO | ENOSYS),
  ];
}

/** Resolves labels to the forward offsets classic BPF jumps by (0–255) and encodes the program. */
function assemble(lines: readonly Line[]): Buffer {
  const code: Instruction[] = [];
  const labels = new Map<string, number>();
  for (const line of lines) {
    if ("label" in line) labels.set(line.label, code.length);
    else code.push(line);
  }
  if (code.length > MAX_INSTRUCTIONS) {
    throw new Error(
      `seccomp filter has ${code.length} instructions, the kernel takes at most ${MAX_INSTRUCTIONS}`,
    );
  }
  const offset = (target: Target, from: number): number => {
    if (target === "next") return 0;
    const to = labels.get(target);
    if (to === undefined) throw new Error(`seccomp filter jumps to an unknown label "${target}"`);
    const jump = to - from - 1;
    if (jump < 0 || jump > 255) {
      throw new Error(`seccomp filter jump to "${target}" is ${jump} instructions, expected 0–255`);
    }
    return jump;
  };
  const out = Buffer.alloc(code.length * INSTRUCTION_BYTES);
  code.forEach((insn, i) => {
    const at = i * INSTRUCTION_BYTES;
    out.writeUInt16LE(insn.code, at);
    out.writeUInt8(offset(insn.jt, i), at + 2);
    out.writeUInt8(offset(insn.jf, i), at + 3);
    out.writeUInt32LE(insn.k >>> 0, at + 4);
  });
  return out;
}
