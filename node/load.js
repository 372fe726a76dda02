'use strict';
// Loads the native addon through the napi-rs loader (index.js) and, when no prebuilt addon fits this
// machine, throws an error that names the package holding the addon for this platform. The addon
// ships in one npm package per platform (`resonance-linux-x64-gnu`, …), installed through the main
// package's optionalDependencies; a missing one (installed with --omit=optional, on another platform,
// or copied node_modules) otherwise surfaces as napi-rs' generic "Cannot find native binding".
const { platform, arch } = process;

// The platform package napi-rs' loader looks for here, e.g. 'resonance-linux-x64-gnu'.
function platformPackage() {
  let abi = '';
  if (platform === 'linux') {
    let musl = false;
    try {
      const report = process.report && process.report.getReport();
      // Node's report names the glibc it runs on; without a report (Bun), assume glibc.
      musl = Boolean(report && report.header && !report.header.glibcVersionRuntime);
    } catch {
      musl = false;
    }
    abi = musl ? '-musl' : '-gnu';
  } else if (platform === 'win32') {
    abi = '-msvc';
  }
  return `resonance-${platform}-${arch}${abi}`;
}

// The platforms a prebuilt addon is published for (node/npm/<platform>/).
const PREBUILT = ['linux-x64-gnu'];

try {
  module.exports = require('./index.js');
} catch (e) {
  const wanted = platformPackage();
  const supported = PREBUILT.map((p) => `resonance-${p}`).includes(wanted);
  const err = new Error(
    supported
      ? `resonance: the native addon for ${platform}-${arch} is missing: the package ${wanted} is not ` +
        `installed (npm skips it with --omit=optional or --no-optional). Install it next to resonance, ` +
        `at the same version: \`npm install ${wanted}\`, or the ${wanted}-<version>.tgz beside resonance's.`
      : `resonance: no prebuilt native addon for ${platform}-${arch} (the package ${wanted} does not ` +
        `exist); prebuilt addons: ${PREBUILT.join(', ')}. Build it from source: \`npm run build\` in a ` +
        'checkout of the repository (needs a Rust toolchain).',
  );
  err.code = 'MODULE_NOT_FOUND';
  err.platformPackage = wanted;
  err.cause = e;
  throw err;
}
