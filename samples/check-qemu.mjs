#!/usr/bin/env node
// Run the sample guests under QEMU and compare what they print with samples.json.
//
//   node samples/check-qemu.mjs [--verbose] [NAME ...]
//   node samples/check-qemu.mjs --insns [NAME ...]   (needs `make -C samples insncount`)
//
// Each image runs as
//   qemu-system-i386 -kernel IMAGE -display none -monitor none -serial stdio -no-reboot \
//     -device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon file:DBGFILE
// Guests with "input" get it on stdin once their first serial line has arrived.
// Guests that end in "cli; hlt" (exitStatus null) are stopped once their serial
// output is complete.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const manifest = JSON.parse(readFileSync(join(here, 'samples.json'), 'utf8'));
const plugin = join(here, 'build/obj/qemu-insncount.so');

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose');
const countInsns = argv.includes('--insns');
const names = argv.filter((a) => !a.startsWith('--'));
const selected = names.length ? manifest.filter((s) => names.includes(s.name)) : manifest;
if (countInsns && !existsSync(plugin)) {
  console.error(`missing ${plugin}: run make -C samples insncount`);
  process.exit(2);
}

function runQemu(sample, dir) {
  const dbgFile = join(dir, `${sample.name}.dbg`);
  const insnFile = join(dir, `${sample.name}.insns`);
  const args = [
    '-kernel', join(root, sample.image), '-display', 'none', '-monitor', 'none',
    '-serial', 'stdio', '-no-reboot',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-debugcon', `file:${dbgFile}`,
  ];
  if (countInsns) args.unshift('-plugin', plugin);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('qemu-system-i386', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, INSNCOUNT_OUT: insnFile },
    });
    let out = '';
    let err = '';
    let inputSent = false;
    let stopping = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (sample.input !== null && !inputSent && out.includes('\n')) {
        inputSent = true;
        setTimeout(() => child.stdin.end(sample.input, 'latin1'), 100);
      }
      if (sample.exitStatus === null && !stopping && sample.serial !== null &&
          out.length >= sample.serial.length) {
        stopping = true; // give it a moment to print anything unexpected, then stop it
        setTimeout(() => child.kill('SIGTERM'), 300);
      }
    });
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const dbg = existsSync(dbgFile) ? readFileSync(dbgFile, 'latin1') : null;
      const insns = existsSync(insnFile) ? readFileSync(insnFile, 'utf8').trim() : null;
      resolve({ out, err, code, signal, dbg, insns, ms: Date.now() - started });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'bmbt-samples-'));
let failures = 0;
for (const sample of selected) {
  const r = await runQemu(sample, dir);
  const problems = [];
  if (sample.serialPattern) {
    if (!new RegExp(sample.serialPattern).test(r.out)) problems.push('serial does not match serialPattern');
  } else if (r.out !== sample.serial) {
    problems.push('serial differs');
  }
  if (sample.debugcon !== null && r.dbg !== sample.debugcon) problems.push('debugcon differs');
  if (sample.exitStatus !== null && r.code !== sample.exitStatus) {
    problems.push(`exit status ${r.code ?? r.signal}, expected ${sample.exitStatus}`);
  }
  const status = problems.length ? 'FAIL' : 'ok  ';
  const extra = countInsns && r.insns ? `  ${r.insns}` : '';
  console.log(`${status} ${sample.name.padEnd(20)} ${String(r.ms).padStart(6)} ms${extra}`);
  if (problems.length || verbose) {
    for (const p of problems) console.log(`     - ${p}`);
    console.log(`     serial:   ${JSON.stringify(r.out)}`);
    console.log(`     debugcon: ${JSON.stringify(r.dbg)}`);
    console.log(`     exit:     ${r.code ?? r.signal}`);
    if (r.err) console.log(`     stderr:   ${JSON.stringify(r.err)}`);
  }
  if (problems.length) failures++;
}
rmSync(dir, { recursive: true, force: true });
console.log(failures ? `${failures} of ${selected.length} failed` : `all ${selected.length} passed`);
process.exit(failures ? 1 : 0);
