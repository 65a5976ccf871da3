#!/usr/bin/env node
// Copies the files of a template folder (the plugin parameter) into the output,
// so that package metadata (go.mod, pyproject.toml, py.typed) is produced by
// `buf generate` like everything else in gen/ and `clean: true` can wipe gen/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runPlugin } from './plugin-io.mjs';

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

await runPlugin((request) => {
  const root = request.parameter;
  if (!root) throw new Error('protoc-gen-static needs the template folder as its parameter');
  return listFiles(root)
    .sort()
    .map((path) => ({ name: relative(root, path), content: readFileSync(path, 'utf8') }));
});
