#!/usr/bin/env node
// npm 11 on these machines writes package-lock.json without the optional
// platform packages of other platforms (npm/cli#4828, #8320); `npm ci` then
// refuses the lock ("Missing: … from lock file"). This adds each missing
// optional dependency as a lock entry (version, integrity, os/cpu/libc,
// optional: true) from registry metadata, exactly as a lock written on
// another platform would hold it. Run after `npm install` changes the lock.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const packages = lock.packages;
let added = 0;

for (const [path, entry] of Object.entries({ ...packages })) {
  if (!entry.optionalDependencies) continue;
  for (const [name, range] of Object.entries(entry.optionalDependencies)) {
    // Resolution as node would see it: nested first, then hoisted.
    const nested = `${path ? `${path}/` : ""}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    packages[`node_modules/${name}`] = fetchEntry(name, range) ?? guessEntry(name, range);
    added++;
  }
}

/** Registry metadata for name@range, or undefined when this registry does not serve it. */
function fetchEntry(name, range) {
  let meta;
  try {
    meta = JSON.parse(
      execFileSync("npm", ["view", `${name}@${range}`, "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }),
    );
  } catch {
    return undefined;
  }
  const m = Array.isArray(meta) ? meta[meta.length - 1] : meta;
  return {
    version: m.version,
    integrity: m.dist.integrity,
    ...(m.cpu ? { cpu: m.cpu } : {}),
    ...(m.libc ? { libc: m.libc } : {}),
    ...(m.license ? { license: m.license } : {}),
    optional: true,
    ...(m.os ? { os: m.os } : {}),
  };
}

// The registry these machines reach serves only the linux-x64 builds of
// platform packages. For the others we record the platform from the package
// name (the convention every one of them follows) so npm skips them here
// without fetching; on such a platform, `npm install` fills in the rest.
function guessEntry(name, range) {
  const base = name.split("/").pop();
  const os = ["darwin", "win32", "linux", "android", "freebsd", "openbsd", "openharmony", "sunos", "aix", "netbsd"].find((o) => base.includes(o))
    ?? (base.includes("windows") ? "win32" : undefined);
  const cpuMap = { amd64: "x64", x64: "x64", arm64: "arm64", "arm-": "arm", arm: "arm", ia32: "ia32", loong64: "loong64", ppc64: "ppc64", riscv64: "riscv64", s390x: "s390x" };
  const cpuKey = Object.keys(cpuMap).find((k) => base.includes(k));
  const libc = base.includes("musl") ? "musl" : base.includes("gnu") && os === "linux" ? "glibc" : undefined;
  if (!os || !cpuKey) throw new Error(`complete-lockfile: cannot tell the platform of ${name}@${range}`);
  return {
    version: range.replace(/^[\^~=]/, ""),
    cpu: [cpuMap[cpuKey]],
    ...(libc ? { libc: [libc] } : {}),
    optional: true,
    os: [os],
  };
}

const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
