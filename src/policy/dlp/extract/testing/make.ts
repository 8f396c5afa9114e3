/**
 * Test helpers for DLP extraction: real office and PDF files made by the
 * Debian Python libraries (python3-docx, -openpyxl, -reportlab, run by
 * /usr/bin/python3), small MIME messages, and reading results.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExtractedContent } from '../../types.js';

/** Runs a Python script that writes `out` (its path is in the variable OUT) and returns the file's bytes. */
export function pythonFile(script: string, name: string): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-'));
  try {
    const out = path.join(dir, name);
    execFileSync('/usr/bin/python3', ['-c', `OUT = ${JSON.stringify(out)}\n${script}`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a command in a temporary folder holding `files`, and returns the bytes of `result` there. */
export function commandFile(cmd: string, args: string[], files: Record<string, Uint8Array | string>, result: string): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-'));
  try {
    for (const [name, data] of Object.entries(files)) execFileSync('/bin/sh', ['-c', 'cat > "$1"', 'sh', path.join(dir, name)], { input: data });
    execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return new Uint8Array(readFileSync(path.join(dir, result)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A message from header lines and a body, CRLF line ends. */
export function message(headers: string[], body: string | Uint8Array): Uint8Array {
  const head = Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'latin1');
  const b = typeof body === 'string' ? Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'latin1') : Buffer.from(body);
  return new Uint8Array(Buffer.concat([head, b]));
}

/** All segment text, joined by newlines. */
export function allText(c: ExtractedContent): string {
  return c.segments.map((s) => s.text).join('\n');
}

/** The text of the segment from `source`, or undefined. */
export function textFrom(c: ExtractedContent, source: string): string | undefined {
  return c.segments.find((s) => s.source === source)?.text;
}

/** Findings as "kind part" strings, for compact expectations. */
export function findingsOf(c: ExtractedContent): string[] {
  return c.findings.map((f) => `${f.kind} ${f.part}`);
}
