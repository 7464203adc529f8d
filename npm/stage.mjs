// Lays out kcdev's npm packages for `npm pack`: the launcher package (npm/kcdev) and one package
// per built binary, all at the crate's version, the launcher depending on exactly the platform
// packages built in this run (a platform never built must not be a dependency: npm would try to
// fetch it).
//
//   node npm/stage.mjs --version 0.1.0 --out DIR --binary x86_64-unknown-linux-gnu=PATH ...
//
// Prints the staged package directories, one a line, platform packages first.
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

// Rust target triple -> npm's process.platform, process.arch and libc. The package name follows
// what bin/kcdev.js computes at run time: @kcdev/<platform>-<arch>[-gnu|-musl].
const PLATFORMS = {
  "x86_64-unknown-linux-gnu": { os: "linux", cpu: "x64", libc: "glibc" },
  "aarch64-unknown-linux-gnu": { os: "linux", cpu: "arm64", libc: "glibc" },
  "x86_64-unknown-linux-musl": { os: "linux", cpu: "x64", libc: "musl" },
  "aarch64-unknown-linux-musl": { os: "linux", cpu: "arm64", libc: "musl" },
  "x86_64-apple-darwin": { os: "darwin", cpu: "x64" },
  "aarch64-apple-darwin": { os: "darwin", cpu: "arm64" },
  "x86_64-pc-windows-gnu": { os: "win32", cpu: "x64" },
  "x86_64-pc-windows-msvc": { os: "win32", cpu: "x64" },
  "aarch64-pc-windows-msvc": { os: "win32", cpu: "arm64" },
};

function packageName({ os, cpu, libc }) {
  const suffix = libc === "glibc" ? "-gnu" : libc === "musl" ? "-musl" : "";
  return `@kcdev/${os}-${cpu}${suffix}`;
}

function parseArgs(argv) {
  const args = { binaries: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) {
      throw new Error(`${flag} needs a value`);
    }
    if (flag === "--version") args.version = value;
    else if (flag === "--out") args.out = value;
    else if (flag === "--binary") {
      const at = value.indexOf("=");
      if (at < 0) throw new Error(`--binary wants TARGET=PATH, got ${value}`);
      args.binaries.push({ target: value.slice(0, at), file: value.slice(at + 1) });
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (!args.version || !args.out || args.binaries.length === 0) {
    throw new Error("usage: stage.mjs --version V --out DIR --binary TARGET=PATH [--binary ...]");
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const launcher = JSON.parse(readFileSync(path.join(here, "kcdev", "package.json"), "utf8"));
  const staged = [];
  const optional = {};
  for (const { target, file } of args.binaries) {
    const platform = PLATFORMS[target];
    if (!platform) throw new Error(`no npm platform for the Rust target ${target}`);
    const name = packageName(platform);
    if (name in optional) throw new Error(`two binaries for ${name}`);
    optional[name] = args.version;
    const dir = path.join(args.out, name.replace("@kcdev/", "kcdev-"));
    const executable = platform.os === "win32" ? "kcdev.exe" : "kcdev";
    mkdirSync(path.join(dir, "bin"), { recursive: true });
    copyFileSync(file, path.join(dir, "bin", executable));
    chmodSync(path.join(dir, "bin", executable), 0o755);
    const manifest = {
      name,
      version: args.version,
      description: `The kcdev binary for ${platform.os} ${platform.cpu}${platform.libc ? ` (${platform.libc})` : ""}; installed by the kcdev package`,
      license: launcher.license,
      repository: launcher.repository,
      os: [platform.os],
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      files: [`bin/${executable}`],
      // Yarn's Plug'n'Play keeps packages zipped; a binary has to be on disk to run.
      preferUnplugged: true,
    };
    writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(
      path.join(dir, "README.md"),
      `# ${name}\n\nThe kcdev binary for ${platform.os} ${platform.cpu}. Install \`kcdev\` instead: it picks this package on this platform.\n`,
    );
    staged.push(dir);
  }
  const dir = path.join(args.out, "kcdev");
  cpSync(path.join(here, "kcdev"), dir, { recursive: true });
  launcher.version = args.version;
  launcher.optionalDependencies = optional;
  writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(launcher, null, 2)}\n`);
  chmodSync(path.join(dir, "bin", "kcdev.js"), 0o755);
  staged.push(dir);
  process.stdout.write(`${staged.join("\n")}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`stage.mjs: ${error.message}\n`);
  process.exit(1);
}
