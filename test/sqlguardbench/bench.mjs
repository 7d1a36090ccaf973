// Times node-sql-parser's whiteListCheck over the query files that
// `sqlguardbench export` wrote, single-threaded JavaScript: one warm-up pass
// (which also records each query's verdict), then N timed passes. Each query
// gets the two checks the library offers, table and column, against the
// whitelists of its database. The column whitelist is timed in both forms
// the export writes (one entry per table, one per column), since which is
// cheaper depends on the catalog; a last series times parse() alone, the
// floor under any check built on this parser.
//
//   node bench.mjs --nsp DIR_WITH_NODE_MODULES --dir QUERY_DIR [--passes 5]
//
// Writes QUERY_DIR/node-<dialect>.json for `sqlguardbench bench`.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    nsp: { type: 'string' },
    dir: { type: 'string' },
    passes: { type: 'string', default: '5' },
  },
});
if (!args.nsp || !args.dir) {
  console.error('usage: node bench.mjs --nsp DIR --dir QUERY_DIR [--passes N]');
  process.exit(2);
}
const passes = Number(args.passes);
if (!Number.isInteger(passes) || passes < 1) throw new Error(`--passes ${args.passes}: want a positive integer`);

// Resolve the library from the throwaway install, not from this directory.
const require = createRequire(join(args.nsp, 'package.json'));
const { Parser } = require('node-sql-parser');
const version = require('node-sql-parser/package.json').version;
const parser = new Parser();

// whiteListCheck throws "authority = '…' is required in <type> whiteList …"
// for a denied authority and the grammar's SyntaxError otherwise.
function classify(err) {
  const m = /^authority = '.*' is required in (table|column) whiteList/s.exec(err.message);
  return m ? m[1] : 'parse';
}

// Wall time and process CPU time (user + system, every thread) of each pass.
function timePasses(fn, n) {
  const passNs = [];
  const cpuNs = [];
  for (let p = 0; p < n; p++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    passNs.push(Number(process.hrtime.bigint() - t0));
    const c = process.cpuUsage(c0);
    cpuNs.push((c.user + c.system) * 1e3);
  }
  return { passNs, cpuNs };
}

for (const dialect of ['mysql', 'postgresql']) {
  const file = JSON.parse(readFileSync(join(args.dir, `queries-${dialect}.json`), 'utf8'));
  const tableOpt = { database: file.nodeDatabase, type: 'table' };
  const columnOpt = { database: file.nodeDatabase, type: 'column' };
  const parseOpt = { database: file.nodeDatabase };
  const forms = { compact: 'columns', flat: 'columnsFlat' };
  const check = {};
  let accepted, failed;
  for (const [form, key] of Object.entries(forms)) {
    const work = file.queries.map((q) => {
      const wl = file.databases[q.db];
      return { sql: q.sql, tables: wl.tables, columns: wl[key] };
    });
    const one = (w) => {
      parser.whiteListCheck(w.sql, w.tables, tableOpt);
      parser.whiteListCheck(w.sql, w.columns, columnOpt);
    };
    const verdicts = [];
    const why = { parse: 0, table: 0, column: 0 };
    for (const w of work) {
      try {
        one(w);
        verdicts.push(true);
      } catch (err) {
        verdicts.push(false);
        why[classify(err)]++;
      }
    }
    // Both forms allow the same authorities, so they must agree.
    if (accepted && verdicts.some((v, i) => v !== accepted[i])) {
      throw new Error(`${dialect}: the ${form} whitelist judges some queries differently`);
    }
    accepted = verdicts;
    failed = why;
    check[form] = timePasses(() => {
      for (const w of work) {
        try { one(w); } catch { /* verdicts were taken in the warm-up */ }
      }
    }, passes);
  }
  const sqls = file.queries.map((q) => q.sql);

  let parseFailed = 0;
  for (const sql of sqls) {
    try { parser.parse(sql, parseOpt); } catch { parseFailed++; }
  }
  const parseOnly = timePasses(() => {
    for (const sql of sqls) {
      try { parser.parse(sql, parseOpt); } catch { /* counted above */ }
    }
  }, passes);

  const out = {
    tool: 'node-sql-parser',
    version,
    node: process.version,
    dialect,
    passes,
    queries: sqls.length,
    accepted,
    failed,
    check,
    parseOnly: { ...parseOnly, failed: parseFailed },
  };
  writeFileSync(join(args.dir, `node-${dialect}.json`), JSON.stringify(out));
  const mean = (t) => (t.passNs.reduce((a, b) => a + b, 0) / passes / sqls.length / 1e3).toFixed(1);
  console.log(`node-sql-parser ${version} ${file.nodeDatabase}: ${sqls.length} queries, ` +
    `${accepted.filter(Boolean).length} accepted, whiteListCheck ${mean(check.compact)} µs/query ` +
    `(compact column whitelist), ${mean(check.flat)} (flat), parse() ${mean(parseOnly)}`);
}
