// Validates the AsyncAPI documents (proto/asyncapi/*.yaml) with the AsyncAPI initiative's own
// parser (@asyncapi/parser: schema of the spec, references, the spec's rules), as test.sh
// runs it: `NODE_PATH=.tools/node_modules node deploy/local/asyncapi-check.cjs FILE…`.
// Exits non-zero on any error or warning.
const { Parser, fromFile } = require("@asyncapi/parser");

const SEVERITY = ["error", "warning", "info", "hint"];

async function check(parser, file) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const serious = diagnostics.filter((d) => d.severity <= 1);
  for (const d of serious) {
    console.error(`${file}: ${SEVERITY[d.severity]} ${d.code} at ${d.path.join(".")}: ${d.message}`);
  }
  if (!document || serious.length > 0) {
    return false;
  }
  const channels = document.channels().all().map((c) => `${c.address()} (${c.messages().length} messages)`);
  console.log(`${file}: valid AsyncAPI ${document.version()}: ${channels.join(", ")}`);
  return true;
}

(async () => {
  const parser = new Parser();
  let ok = true;
  for (const file of process.argv.slice(2)) {
    ok = (await check(parser, file)) && ok;
  }
  process.exit(ok ? 0 : 1);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
