// Command line of `npm run bench -- <suite> [--reps N] [--quick] [--install]`.

export const SUITES = ['smtp', 'latency', 'imap', 'store'];

const USAGE = `usage: npm run bench -- <${SUITES.join('|')}> [--reps N] [--quick] [--install] [--only a,b]
  --reps N    repetitions of each cell, servers alternating (default 3, 1..50)
  --quick     smaller loads, to check that everything works
  --install   install missing Debian packages with apt-get (root only)
  --only a,b  run only these servers (postern, postfix, haraka, dovecot)`;

/** Parses argv (without node and the script); throws an Error with the usage on bad input. */
export function parseArgs(argv) {
  const out = { suite: null, reps: 3, quick: false, install: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') out.quick = true;
    else if (a === '--install') out.install = true;
    else if (a === '--reps' || a === '--only') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      if (a === '--reps') {
        if (!/^\d{1,2}$/.test(v) || Number(v) < 1 || Number(v) > 50) throw new Error(`--reps must be a whole number from 1 to 50, not "${v}"\n${USAGE}`);
        out.reps = Number(v);
      } else {
        out.only = v.split(',').filter(Boolean);
      }
    } else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else if (out.suite) throw new Error(`one suite at a time (got ${out.suite} and ${a})\n${USAGE}`);
    else if (!SUITES.includes(a)) throw new Error(`unknown suite "${a}"\n${USAGE}`);
    else out.suite = a;
  }
  if (!out.suite) throw new Error(`which suite?\n${USAGE}`);
  return out;
}
