/**
 * `npm run bench -- --ab REV`: the same figures on two checkouts in one run, so that both share
 * the machine's noise. A is a temporary `git worktree` of REV, built with this checkout's
 * node_modules (nothing is installed: if REV locks other packages than those installed, it
 * stops); B is this checkout. Each invocation is a checkout's own bench (`dist/bench/run.js
 * --runs 1 --out FILE`), in pairs whose order alternates (A B, B A, A B…), so drift falls on
 * both sides. Prints per value the median of A's invocations, of B's, B ÷ A, and whether the
 * pairs' ratios say it is within noise (`signTestInterval`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Data, METRICS } from "./ab-values.js";
import { fmtRatio } from "./lib/context.js";
import { medianOfFew as median, signTestInterval } from "./lib/stats.js";

export interface AbOptions {
  readonly rev: string;
  /** Figures as `--only` names them. */
  readonly figures: readonly string[];
  /** Invocations of each checkout. */
  readonly pairs: number;
  /** Sample-size options, passed to both benches as given. */
  readonly sizes: readonly string[];
  readonly out: string;
}

/** The confidence asked of the interval of the median pair ratio. */
const CONFIDENCE = 0.9;
/** As run.ts: above this share of the CPU taken by other processes, a figure is flagged as disturbed. */
const DISTURBED_SHARE = 0.1;
/** Width of the table's first column. */
const NAME_WIDTH = 36;

interface Checkout {
  readonly label: "A" | "B";
  readonly dir: string;
  readonly rev: string;
  /** Options its bench takes beyond those both take. */
  readonly extra: readonly string[];
  /** The figures its bench has. */
  readonly figures: ReadonlySet<string>;
}

/** One invocation's values: per figure, per metric label; and the share of the CPU others took. */
interface Invocation {
  readonly values: Map<string, number>;
  readonly disturbed: Map<string, number>;
}

/** Runs the A/B; resolves to the process's exit code. */
export async function abCompare(o: AbOptions): Promise<number> {
  const unknown = o.figures.filter((f) => !METRICS[f]);
  if (unknown.length > 0) {
    process.stderr.write(`--ab: no values to compare for ${unknown.join(", ")}\n`);
    return 2;
  }
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: "pipe" }).trim();
  const root = git("rev-parse", "--show-toplevel");
  let sha: string;
  try {
    sha = git("rev-parse", "--verify", `${o.rev}^{commit}`);
  } catch {
    process.stderr.write(`--ab: "${o.rev}" is not a commit of this repository\n`);
    return 2;
  }
  const modules = realpathSync(join(root, "node_modules"));
  const lock = compareLockfiles(JSON.parse(git("show", `${sha}:package-lock.json`)), modules);
  if (lock.differ.length > 0) {
    process.stderr.write(
      `--ab: ${o.rev} (${sha.slice(0, 10)}) locks packages other than those installed, and the A/B installs nothing:\n` +
        lock.differ.map((d) => `  ${d}\n`).join("") +
        "Compare against a revision with the same lockfile, or install its packages in a checkout of your own.\n",
    );
    return 2;
  }
  const temp = mkdtempSync(join(tmpdir(), "nimbus-ab-"));
  const worktree = join(temp, "nimbus");
  let current: ChildProcess | undefined;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    // The link first, so that nothing removing the worktree could reach the shared node_modules.
    rmSync(join(worktree, "node_modules"), { force: true });
    try {
      git("worktree", "remove", "--force", worktree);
    } catch {
      // Never made, or already gone: prune forgets it.
      git("worktree", "prune");
    }
    rmSync(temp, { recursive: true, force: true });
  };
  const interrupted = (signal: NodeJS.Signals) => {
    current?.kill("SIGTERM");
    remove();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  // Also when this process dies of an error (a closed stdout, say): the worktree must not stay.
  process.once("exit", remove);
  const began = performance.now();
  try {
    const head = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    process.stdout.write(
      `Nimbus A/B: A = ${o.rev} (${sha.slice(0, 10)}), B = this checkout (${head}${dirty ? ", with uncommitted changes" : ""}); ` +
        `${o.pairs} invocations of each, --runs 1 each, order alternating; figures ${o.figures.join(",")}\n`,
    );
    if (lock.extra.length > 0)
      process.stdout.write(
        `A runs on the installed packages: each package its lockfile pins is installed at that version; ` +
          `installed beyond those (A imports none of them): ${lock.extra.join(", ")}\n`,
      );
    process.stderr.write(`  … A: git worktree ${worktree}, building\n`);
    git("worktree", "add", "--detach", worktree, sha);
    symlinkSync(modules, join(worktree, "node_modules"));
    execFileSync("npm", ["run", "build", "--silent"], { cwd: worktree, stdio: ["ignore", 2, 2] });
    const a: Checkout = { label: "A", dir: worktree, rev: sha, ...benchOf(worktree) };
    const b: Checkout = { label: "B", dir: root, rev: head, ...benchOf(root) };
    for (const side of [a, b]) {
      const missing = o.figures.filter((f) => !side.figures.has(f));
      if (missing.length > 0) {
        process.stderr.write(
          `--ab: ${side.label}'s bench has no figure ${missing.join(", ")}: leave it out of --only\n`,
        );
        return 2;
      }
    }
    let failed = 0;
    const runs = { A: [] as Invocation[], B: [] as Invocation[] };
    for (let pair = 0; pair < o.pairs; pair++) {
      for (const side of pair % 2 === 0 ? [a, b] : [b, a]) {
        const file = join(temp, `${side.label}-${pair}.json`);
        const args = [
          "dist/bench/run.js",
          "--only",
          o.figures.join(","),
          "--runs",
          "1",
          ...o.sizes,
          ...side.extra,
          "--out",
          file,
        ];
        const t0 = performance.now();
        process.stderr.write(`  … pair ${pair + 1}/${o.pairs}: ${side.label}\n`);
        const child = spawn(process.execPath, args, { cwd: side.dir, stdio: ["ignore", "pipe", "pipe"] });
        current = child;
        prefixLines(child, `  ${side.label}│ `);
        const code = await new Promise<number | null>((r) => child.once("exit", r));
        current = undefined;
        if (code !== 0 || !existsSync(file)) {
          process.stderr.write(`  ${side.label}'s bench exited with ${code}: this pair is left out\n`);
          failed++;
          runs[side.label].push({ values: new Map(), disturbed: new Map() });
          continue;
        }
        runs[side.label].push(readInvocation(file, o.figures));
        process.stderr.write(`  … ${side.label} took ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
    const report = printTable(o, runs, (performance.now() - began) / 1000);
    mkdirSync(join(o.out, ".."), { recursive: true });
    writeFileSync(
      o.out,
      `${JSON.stringify({ date: new Date().toISOString(), a: { rev: o.rev, commit: sha }, b: { commit: head, dirty }, pairs: o.pairs, sizes: o.sizes, confidence: CONFIDENCE, values: report }, null, 2)}\n`,
    );
    process.stdout.write(`results: ${o.out}\n`);
    if (failed > 0) process.stdout.write(`${failed} invocations failed: their pairs are left out\n`);
    return failed > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    process.off("exit", remove);
    remove();
  }
}

/**
 * Whether the installed packages (node_modules/.package-lock.json) are those the revision's
 * lockfile pins: every package it locks installed at the same version and integrity (but the
 * optional ones npm leaves out on this platform). Packages installed beyond those are listed:
 * the revision's code does not import them.
 */
function compareLockfiles(old: { packages?: Data }, modules: string): { differ: string[]; extra: string[] } {
  const installedFile = join(modules, ".package-lock.json");
  const installed = (JSON.parse(readFileSync(installedFile, "utf8")) as { packages?: Data }).packages ?? {};
  const differ: string[] = [];
  for (const [path, entry] of Object.entries(old.packages ?? {})) {
    if (!path.startsWith("node_modules/")) continue;
    const want = entry as { version?: string; integrity?: string; optional?: boolean };
    const have = installed[path] as { version?: string; integrity?: string } | undefined;
    // Optional packages for other platforms (esbuild's and TypeScript's binaries) are never installed here.
    if (!have && want.optional) continue;
    if (!have) differ.push(`${path.slice(13)} ${want.version}: not installed`);
    else if (have.version !== want.version)
      differ.push(`${path.slice(13)}: locks ${want.version}, installed ${have.version}`);
    else if (want.integrity && have.integrity && want.integrity !== have.integrity)
      differ.push(`${path.slice(13)} ${want.version}: another integrity hash`);
  }
  const extra = Object.keys(installed)
    .filter((path) => path.startsWith("node_modules/") && !(path in (old.packages ?? {})))
    .map((path) => path.slice(13));
  return { differ, extra };
}

/**
 * What a checkout's bench offers, from its `--help`: the figures its `--only` lists, and the
 * options it is given beyond the figures and sizes: the process driver alone (as
 * docs/performance.md's table is), and SQLite alone where it has stores.
 */
function benchOf(dir: string): { extra: string[]; figures: Set<string> } {
  const help = execFileSync(process.execPath, ["dist/bench/run.js", "--help"], {
    cwd: dir,
    encoding: "utf8",
  });
  const only = /--only LIST([\s\S]*?)\n {2}--/.exec(help)?.[1] ?? "";
  return {
    extra: [
      ...(help.includes("--sandboxes") ? ["--sandboxes", "process"] : []),
      ...(help.includes("--stores") ? ["--stores", "sqlite"] : []),
    ],
    figures: new Set(only.match(/[a-z]+/g) ?? []),
  };
}

function prefixLines(child: ChildProcess, prefix: string): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = "";
    stream.on("data", (c: Buffer) => {
      const lines = (rest + c.toString()).split("\n");
      rest = lines.pop()!;
      for (const line of lines) process.stderr.write(`${prefix}${line}\n`);
    });
  }
}

function readInvocation(file: string, figures: readonly string[]): Invocation {
  const results = JSON.parse(readFileSync(file, "utf8")) as { figures: Record<string, Data> };
  const values = new Map<string, number>();
  const disturbed = new Map<string, number>();
  for (const figure of figures) {
    const { name, metrics } = METRICS[figure]!;
    const data = results.figures[name];
    if (!data || data.error !== undefined) continue;
    if (typeof data.otherCpuShare === "number") disturbed.set(figure, data.otherCpuShare);
    for (const m of metrics) {
      const v = m.value(data);
      if (v !== undefined && Number.isFinite(v)) values.set(`${figure}/${m.label}`, v);
    }
  }
  return { values, disturbed };
}

function printTable(
  o: AbOptions,
  runs: { A: Invocation[]; B: Invocation[] },
  seconds: number,
): Record<string, unknown> {
  const report: Record<string, unknown> = {};
  let coverage = 1;
  const lines: string[] = [];
  for (const figure of o.figures) {
    const { name, metrics } = METRICS[figure]!;
    const shares = [...runs.A, ...runs.B].map((r) => r.disturbed.get(figure) ?? 0);
    const worstShare = Math.max(0, ...shares);
    for (const m of metrics) {
      const key = `${figure}/${m.label}`;
      const as: number[] = [];
      const bs: number[] = [];
      const ratios: number[] = [];
      for (let i = 0; i < o.pairs; i++) {
        const [va, vb] = [runs.A[i]?.values.get(key), runs.B[i]?.values.get(key)];
        if (va !== undefined) as.push(va);
        if (vb !== undefined) bs.push(vb);
        if (va !== undefined && vb !== undefined && va !== 0) ratios.push(vb / va);
        else if (va === 0 && vb === 0) ratios.push(1);
      }
      const label = `${name}: ${m.label}`.padEnd(NAME_WIDTH);
      if (as.length === 0 || bs.length === 0 || ratios.length === 0) {
        lines.push(`${label}no values (a side's figure failed in every pair)`);
        continue;
      }
      const [mA, mB] = [median(as), median(bs)];
      const interval = signTestInterval(ratios, CONFIDENCE);
      coverage = Math.min(coverage, interval.coverage);
      const within = interval.low <= 1 && interval.high >= 1;
      const bBetter = m.better === "higher" ? interval.low > 1 : interval.high < 1;
      const verdict =
        interval.coverage < CONFIDENCE
          ? "not judged: too few pairs"
          : within
            ? "within noise"
            : bBetter
              ? "B better (outside noise)"
              : "B WORSE (outside noise)";
      lines.push(
        `${label}A ${m.fmt(mA)} | B ${m.fmt(mB)} | B/A ${mA === 0 ? "—" : fmtRatio(mB / mA)} | ` +
          `pairs ${fmtRatio(median(ratios))} [${fmtRatio(interval.low)}, ${fmtRatio(interval.high)}] ${verdict}` +
          (worstShare > DISTURBED_SHARE && m === metrics[0]
            ? ` (disturbed: other processes took up to ${(worstShare * 100).toFixed(0)}% of the CPU)`
            : ""),
      );
      report[key] = {
        a: as,
        b: bs,
        ratios,
        medianA: mA,
        medianB: mB,
        interval,
        within,
        worstOtherCpuShare: worstShare,
      };
    }
  }
  process.stdout.write(
    `${"value".padEnd(NAME_WIDTH)}median of A's invocations | of B's | B/A of the medians | median of the pairs' ratios ` +
      `[sign-test interval, ≥${Math.round(coverage * 100)}% confidence] and whether it holds ×1.00\n`,
  );
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (coverage < CONFIDENCE)
    process.stdout.write(
      `with ${o.pairs} pairs the interval is the whole range of the ratios and holds the median ratio only ` +
        `${Math.round(coverage * 100)}% of the time: nothing is judged; take 5 pairs or more\n`,
    );
  process.stdout.write(`${seconds.toFixed(0)} s\n`);
  return report;
}
