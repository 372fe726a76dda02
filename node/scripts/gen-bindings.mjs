// Writes the napi-rs loader (index.js) and raw typings (index.d.ts) from the intermediate type
// definitions napi-derive leaves in NAPI_TYPE_DEF_TMP_FOLDER during a plain `cargo build` of the addon,
// with @napi-rs/cli's own renderer: the same files `napi build --platform --js index.js --dts index.d.ts`
// writes, without `napi build`'s `--target <host triple>`, which gives the addon a dependency tree of its
// own (scripts/test-node.sh builds it with cargo into the shared target directory instead).
// Usage: node scripts/gen-bindings.mjs TYPEDEF_DIR OUT_DIR
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef, writeJsBinding } from '@napi-rs/cli'

const [typeDefDir, outDir] = process.argv.slice(2)
if (!typeDefDir || !outDir) {
  console.error('usage: node scripts/gen-bindings.mjs TYPEDEF_DIR OUT_DIR')
  process.exit(2)
}
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))

// `napi build --platform` declares `__napiBindingTarget` once the root loader has exports.
const { exports, dts } = await generateTypeDef({
  typeDefDir,
  cwd: pkgDir,
  declareBindingTarget: (idents) => idents.length > 0,
})
if (exports.length === 0) {
  console.error(`no type definitions in ${typeDefDir}: was the addon built with NAPI_TYPE_DEF_TMP_FOLDER set?`)
  process.exit(1)
}
await writeFile(join(outDir, 'index.d.ts'), dts, 'utf8')
await writeJsBinding({
  platform: true,
  binaryName: pkg.napi.binaryName,
  packageName: pkg.name,
  version: pkg.version,
  idents: exports,
  outputDir: outDir,
  jsBinding: 'index.js',
})
