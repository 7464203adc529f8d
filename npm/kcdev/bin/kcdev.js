#!/usr/bin/env node
// Runs the kcdev binary. npm installs exactly one of kcdev's per-platform packages, the optional
// dependency whose os, cpu and libc match this machine, so the install needs no script and no
// download of its own (it works offline and with --ignore-scripts). KCDEV_BINARY names another
// binary, e.g. one built from source.
"use strict";

const { spawn } = require("node:child_process");
const path = require("node:path");

const SCOPE = "@kcdev";

// glibc or musl: Node reports the glibc it runs on, and nothing on musl.
function libcSuffix() {
  if (process.platform !== "linux") {
    return "";
  }
  try {
    const header = process.report.getReport().header;
    return header.glibcVersionRuntime ? "-gnu" : "-musl";
  } catch {
    return "-gnu";
  }
}

function platformPackage() {
  return `${SCOPE}/${process.platform}-${process.arch}${libcSuffix()}`;
}

function installedBinary(name) {
  const executable = process.platform === "win32" ? "kcdev.exe" : "kcdev";
  try {
    const manifest = require.resolve(`${name}/package.json`);
    return path.join(path.dirname(manifest), "bin", executable);
  } catch {
    return null;
  }
}

function fail(message) {
  process.stderr.write(`kcdev: ${message}\n`);
  process.exit(1);
}

const override = process.env.KCDEV_BINARY;
const name = platformPackage();
const binary = override || installedBinary(name);
if (!binary) {
  fail(
    `no kcdev binary for this platform (${process.platform} ${process.arch}): the package ${name} ` +
      "is not installed. It may not be built for this platform, or the install skipped optional " +
      "dependencies (--omit=optional, --no-optional). Install kcdev another way " +
      "(`pipx install kcdev`, `uv tool install kcdev`, `cargo install kcdev`), or point " +
      "KCDEV_BINARY at a kcdev binary.",
  );
}

const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

// The terminal sends Ctrl-C to kcdev as well as to this launcher: kcdev decides how to stop (it
// stops what it started first), and the launcher waits for it instead of leaving it orphaned.
// Signals sent to the launcher alone (a supervisor's SIGTERM) are passed on.
const forwarded = ["SIGTERM", "SIGHUP"];
process.on("SIGINT", () => {});
for (const signal of forwarded) {
  process.on(signal, () => {
    child.kill(signal);
  });
}

child.on("error", (error) => {
  const source = override ? "KCDEV_BINARY" : name;
  fail(`cannot run ${binary} (from ${source}): ${error.message}`);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so a caller sees what the shell would have shown for kcdev.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
