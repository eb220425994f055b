/**
 * Generates TypeScript types for every contract in protos/ into protos/gen/.
 * Generated files are rebuilt by `npm run gen` (run by `npm ci` through `prepare`), never edited.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MESSAGE_FILES, PROTO_FILES } from '../protos/src/index.js';
import { LOADER_OPTIONS } from '../protos/src/options.js';

const root = path.resolve(import.meta.dirname, '..', 'protos');
// The generator must be the proto-loader the protos package (and so the generated types) depends on.
const require = createRequire(path.join(root, 'package.json'));
const outDir = path.join(root, 'gen');
const bin = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');

const flags = [
  `--longs=${LOADER_OPTIONS.longs.name}`,
  `--enums=${LOADER_OPTIONS.enums.name}`,
  ...(LOADER_OPTIONS.keepCase ? ['--keepCase'] : []),
  ...(LOADER_OPTIONS.defaults ? ['--defaults'] : []),
  ...(LOADER_OPTIONS.oneofs ? ['--oneofs'] : []),
  '--includeComments',
  '--grpcLib=@grpc/grpc-js',
  `--includeDirs=${root}`,
  `--outDir=${outDir}`,
];

const files = [...Object.values(PROTO_FILES), ...Object.values(MESSAGE_FILES)];
rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [bin, ...flags, ...files], { cwd: root, stdio: 'inherit' });
// The generator writes extensionless relative imports; ESM under NodeNext needs the .js extension.
const relativeImport = /(from '\.{1,2}\/[^']+)(?<!\.js)'/g;
for (const file of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.ts')) continue;
  const full = path.join(outDir, file);
  writeFileSync(full, readFileSync(full, 'utf8').replace(relativeImport, "$1.js'"));
}
// One barrel per package (callgate/<domain>/v1/index.ts), so services import types by package.
for (const file of files) {
  const dir = path.join(outDir, path.dirname(file));
  const names = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  const lines = names.map((f) => `export type * from './${f.slice(0, -3)}.js';`);
  writeFileSync(path.join(dir, 'index.ts'), `${lines.join('\n')}\n`);
}
process.stdout.write(`generated types for ${files.length} contracts in ${path.relative(process.cwd(), outDir)}\n`);
