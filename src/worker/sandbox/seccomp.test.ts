import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { MAX_INSTRUCTIONS, seccompProgram } from "./seccomp.js";

// Numbers here are written out from the kernel's tables independently of seccomp.ts, so a
// wrong or swapped number there fails a test instead of being checked against itself.
const X86_64 = 0xc000003e;
const AARCH64 = 0xc00000b7;
const I386 = 0x40000003;
const ARM = 0x40000028;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL_PROCESS = 0x80000000;
const CLONE_THREAD_FLAGS = 0x003d0f00; // what glibc's pthread_create asks for
const SIGCHLD = 17;

/** What the program answers for one syscall: a minimal classic-BPF interpreter. */
function verdict(arch: number, nr: number, arg0 = 0): number {
  const program = seccompProgram();
  const data = Buffer.alloc(64); // struct seccomp_data
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  data.writeBigUInt64LE(BigInt(arg0), 16);
  let a = 0;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: // ld [k]
        a = data.readUInt32LE(k);
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        assert.fail(
          `instruction ${pc} has opcode 0x${code.toString(16)}, which the interpreter does not know`,
        );
    }
  }
  return assert.fail("the program ran off its end without returning");
}

test("the program is whole 8-byte instructions, no more than the kernel's 4,096", () => {
  const program = seccompProgram();
  assert.equal(program.length % 8, 0, `length ${program.length} is not a multiple of 8`);
  assert.ok(program.length > 0);
  assert.ok(program.length / 8 <= MAX_INSTRUCTIONS, `${program.length / 8} instructions`);
  assert.ok(program.length / 8 <= 4096);
});

test("refused syscalls get EPERM by each arch's own number", () => {
  const x86: Record<string, number> = { mount: 165, ptrace: 101, bpf: 321, unshare: 272, setns: 308 };
  Object.assign(x86, { keyctl: 250, io_uring_setup: 425, iopl: 172, init_module: 175, _sysctl: 156 });
  for (const [name, nr] of Object.entries(x86)) assert.equal(verdict(X86_64, nr), EPERM, `x86_64 ${name}`);
  const arm: Record<string, number> = { mount: 40, ptrace: 117, bpf: 280, unshare: 97, setns: 268 };
  Object.assign(arm, { keyctl: 219, io_uring_setup: 425, init_module: 105, pivot_root: 41 });
  for (const [name, nr] of Object.entries(arm)) assert.equal(verdict(AARCH64, nr), EPERM, `aarch64 ${name}`);
});

test("a refused number from the other arch is an ordinary syscall and is allowed", () => {
  // aarch64's 172 is getpid, 101 nanosleep, 56 openat; x86_64's 40 is sendfile, 117 setresuid.
  assert.equal(verdict(AARCH64, 172), ALLOW, "aarch64 getpid (x86_64 iopl)");
  assert.equal(verdict(AARCH64, 101), ALLOW, "aarch64 nanosleep (x86_64 ptrace)");
  assert.equal(verdict(AARCH64, 56, 0x10000000), ALLOW, "aarch64 openat (x86_64 clone)");
  assert.equal(verdict(X86_64, 40), ALLOW, "x86_64 sendfile (aarch64 mount)");
  assert.equal(verdict(X86_64, 117), ALLOW, "x86_64 setresuid (aarch64 ptrace)");
});

test("the syscalls a runtime lives on are allowed", () => {
  for (const nr of [0, 1, 9, 59, 231, 257, 202, 232])
    assert.equal(verdict(X86_64, nr), ALLOW, `x86_64 ${nr}`);
  for (const nr of [63, 64, 222, 221, 94, 56, 98]) assert.equal(verdict(AARCH64, nr), ALLOW, `aarch64 ${nr}`);
});

test("clone may start threads and processes but not new namespaces", () => {
  for (const [arch, clone] of [
    [X86_64, 56],
    [AARCH64, 220],
  ] as const) {
    assert.equal(verdict(arch, clone, CLONE_THREAD_FLAGS), ALLOW, "a thread");
    assert.equal(verdict(arch, clone, SIGCHLD), ALLOW, "a fork");
    assert.equal(verdict(arch, clone, 0x01200000 | SIGCHLD), ALLOW, "glibc's fork");
    for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      const hex = flag.toString(16);
      assert.equal(verdict(arch, clone, flag | SIGCHLD), EPERM, `arch ${arch.toString(16)} CLONE 0x${hex}`);
    }
  }
});

test("clone3 says ENOSYS, so libc falls back to clone", () => {
  assert.equal(verdict(X86_64, 435), ENOSYS);
  assert.equal(verdict(AARCH64, 435), ENOSYS);
});

test("personality may be queried or set to PER_LINUX, nothing else", () => {
  for (const [arch, nr] of [
    [X86_64, 135],
    [AARCH64, 92],
  ] as const) {
    assert.equal(verdict(arch, nr, 0xffffffff), ALLOW, "query");
    assert.equal(verdict(arch, nr, 0), ALLOW, "PER_LINUX");
    assert.equal(verdict(arch, nr, 0x0040000), EPERM, "ADDR_NO_RANDOMIZE");
    assert.equal(verdict(arch, nr, 0x0400000), EPERM, "READ_IMPLIES_EXEC");
  }
});

test("a syscall through any other ABI kills the process", () => {
  assert.equal(verdict(I386, 20), KILL_PROCESS, "i386 getpid");
  assert.equal(verdict(ARM, 20), KILL_PROCESS, "arm getpid");
  assert.equal(verdict(X86_64, 0x40000000 | 39), KILL_PROCESS, "x32 getpid");
});

// The jail tests below load the program into the kernel through bubblewrap and run real
// programs under it. Each probe also runs without the filter, to show the filter is what
// refuses it. --cap-add ALL: the filter must hold even for a process with every capability.

/** Probe syscall numbers for this machine's arch. */
const NR =
  process.arch === "arm64"
    ? { ptrace: 117, keyctl: 219, bpf: 280, io_uring_setup: 425, personality: 92, clone: 220, clone3: 435 }
    : { ptrace: 101, keyctl: 250, bpf: 321, io_uring_setup: 425, personality: 135, clone: 56, clone3: 435 };

interface JailRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` (a shell script, or an argv) in a bubblewrap jail, with or without the filter. */
function jail(command: string | readonly string[], filter: boolean, binds: readonly string[] = []): JailRun {
  const version = spawnSync("bwrap", ["--version"], { encoding: "utf8" });
  if (version.error) {
    assert.fail(`cannot run bwrap (${version.error.message}): install Debian's package \`bubblewrap\``);
  }
  const node = dirname(dirname(process.execPath));
  const args = [
    "--unshare-all",
    "--die-with-parent",
    "--cap-add",
    "ALL",
    "--ro-bind",
    "/usr",
    "/usr",
    ...(node.startsWith("/usr/") ? [] : ["--ro-bind", node, node]),
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/bin",
    "/bin",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    ...binds.flatMap((dir) => ["--ro-bind", dir, dir]),
    ...(filter ? ["--seccomp", "3"] : []),
    "--",
    ...(typeof command === "string" ? ["/bin/sh", "-c", command] : command),
  ];
  const dir = mkdtempSync(join(tmpdir(), "nimbus-seccomp-"));
  const file = join(dir, "filter.bpf");
  writeFileSync(file, seccompProgram());
  const fd = openSync(file, "r");
  try {
    const run = spawnSync("bwrap", args, {
      stdio: ["ignore", "pipe", "pipe", fd],
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: "/usr/bin:/bin" },
    });
    if (run.error) throw run.error;
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `name=value` lines of a probe's output. */
function results(run: JailRun): Record<string, string> {
  return Object.fromEntries(
    run.stdout.split("\n").flatMap((line) => (line.includes("=") ? [line.split("=")] : [])),
  );
}

test("node runs normally under the filter: files, timers, child processes, worker threads", () => {
  const script = `
    const fs = require("node:fs");
    const { spawnSync } = require("node:child_process");
    const { Worker } = require("node:worker_threads");
    fs.writeFileSync("/tmp/a", "hello");
    fs.promises.readFile("/tmp/a", "utf8").then((text) => {
      if (text !== "hello") throw new Error("read " + text);
      const child = spawnSync("/bin/true");
      if (child.status !== 0) throw new Error("true: " + (child.error ?? child.status));
      setTimeout(() => {
        const w = new Worker("require('node:worker_threads').parentPort.postMessage(6 * 7)", { eval: true });
        w.on("message", (n) => { if (n === 42) console.log("ok"); });
      }, 10);
    });`;
  const run = jail([process.execPath, "-e", script], true);
  assert.equal(run.stderr, "");
  assert.equal(run.stdout, "ok\n");
  assert.equal(run.status, 0);
});

test("in the jail, new namespaces, mounts, tracing, keyrings, BPF and io_uring fail with EPERM", () => {
  // perl's syscall() reaches any syscall without a compiler; each line prints name=errno.
  const perl = `
    $| = 1;
    sub probe { my ($name, $r) = @_; print "$name=", ($r == -1 ? $! + 0 : "ok"), "\\n" }
    probe("ptrace", syscall(${NR.ptrace}, -1, 0, 0, 0));
    probe("keyctl", syscall(${NR.keyctl}, 9999, 0, 0, 0));
    probe("bpf", syscall(${NR.bpf}, 9999, 0, 0));
    probe("io_uring_setup", syscall(${NR.io_uring_setup}, 1, 0));
    probe("personality", syscall(${NR.personality}, 0x0040000));
    my $pid = syscall(${NR.clone}, 0x10000000 | ${SIGCHLD}, 0, 0, 0, 0);
    exit 0 if $pid == 0;
    waitpid($pid, 0) if $pid > 0;
    probe("clone_newuser", $pid);`;
  const script = `
    unshare -U true 2>&1 && echo unshare=ok
    mount -t tmpfs x /tmp 2>&1 && echo mount=ok
    perl -e '${perl}'`;
  const open = jail(script, false);
  const shut = jail(script, true);
  const allowed = results(open);
  const refused = results(shut);
  assert.equal(allowed.unshare, "ok", open.stdout);
  assert.equal(allowed.mount, "ok", open.stdout);
  assert.equal(allowed.clone_newuser, "ok", open.stdout);
  assert.equal(allowed.personality, "ok", open.stdout);
  for (const name of ["ptrace", "keyctl", "bpf", "io_uring_setup"]) {
    assert.notEqual(
      allowed[name],
      "1",
      `${name} without the filter fails for another reason: ${open.stdout}`,
    );
  }
  assert.match(shut.stdout, /unshare failed: Operation not permitted/);
  assert.match(shut.stdout, /mount: \/tmp: (permission denied|.*Operation not permitted)/i);
  assert.equal(refused.unshare, undefined);
  assert.equal(refused.mount, undefined);
  for (const name of ["ptrace", "keyctl", "bpf", "io_uring_setup", "personality", "clone_newuser"]) {
    assert.equal(refused[name], "1", `${name} gets EPERM under the filter: ${shut.stdout}`);
  }
});

test("in the jail, clone3 fails with ENOSYS and a plain fork still works", () => {
  const script = `perl -e '$| = 1; syscall(${NR.clone3}, 0, 0); print "clone3=", $! + 0, "\\n"; my $pid = fork; exit 0 if $pid == 0; waitpid($pid, 0); print "fork=", $? == 0 ? "ok" : $?, "\\n"'`;
  const open = results(jail(script, false));
  const shut = results(jail(script, true));
  assert.equal(open.clone3, "22", "without the filter, clone3 with no arguments is EINVAL");
  assert.equal(shut.clone3, "38", "under the filter, clone3 is ENOSYS");
  assert.equal(shut.fork, "ok");
});

const X86_ONLY = { skip: process.arch !== "x64" && "the i386 and x32 ABIs exist only on x86_64" };
const SIGSYS_STATUS = String(128 + 31);

test("in the jail, a syscall through the x32 ABI kills the process with SIGSYS", X86_ONLY, () => {
  const script = `perl -e 'syscall(0x40000027)'; echo x32=$?`; // x32's getpid
  assert.equal(results(jail(script, false)).x32, "0", "without the filter, the x32 call only fails");
  assert.equal(results(jail(script, true)).x32, SIGSYS_STATUS);
});
