#!/usr/bin/env python3
"""Mutation run: the release binary on damaged copies of simulated evidence.

Simulates a small incident in every format (`breachline simulate --gateway all --db all
--push all`), then, run after run, damages one evidence file (or, with --dirs, several
files of the whole incident; with --archives, a tar/zip/compressed archive of some of
it) — flipped bytes, quotes and escapes, cut files and gzip streams, lines joined,
spliced from other formats, repeated into megabyte lines, numbers made huge, random
bytes — and runs `report` (or `timeline`, or `ingest` then `report` on the case file)
on it. A run that panics, exits with a code other than 0, 1 or 2, or takes longer than
the time limit is printed, and its input is kept under WORK/bad-*.

Usage: scripts/mutate.py RUNS [--seed N] [--bin PATH] [--work DIR] [--dirs]
                        [--archives] [--mode report|timeline|case] [--timeout S]
"""
import argparse, glob, gzip, os, random, re, shutil, subprocess, tarfile, zipfile

NASTY = [b'"', b'\\', b'{', b'}', b'[', b']', b',', b'\x00', b'\xff\xfe', b'\xc3', b'\r',
         b'\n', b'\t', b'99999999999999999999999', b'-1', b'1e400', b'NaN', b'\xe2\x80\xae',
         b'\x1b[2J', b'=cmd|', b'9999-12-31T23:59:59Z', b'0000-00-00 00:00:00', b'+99:99',
         b"/* request_id='", b"'", b'$$', b"E'\\\\", b'\\u0000', b'\\ud800', b'%', b'%\xc3\xa9',
         b'::ffff:1.2.3.4', b'[::1]:80', b'..', b'Feb 30', b'1762300802172000000000', b'<',
         b'>', b'&#x0;', b'(', b')', b';']


def load(path):
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        return f.read()


def mutate(data, rng, pool):
    """One damaged copy of `data` and the name of the damage."""
    lines = data.split(b'\n')
    kind = rng.randrange(12)
    b = bytearray(data)
    if kind == 0:
        for _ in range(rng.randint(1, 30)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b), 'flip'
    if kind == 1:
        for _ in range(rng.randint(1, 30)):
            p = rng.randrange(len(b) + 1)
            b[p:p] = rng.choice(NASTY)
        return bytes(b), 'nasty'
    if kind == 2:
        return data[:rng.randrange(len(data) + 1)], 'cut'
    if kind == 3:
        other = load(rng.choice(pool)).split(b'\n')
        for _ in range(rng.randint(1, 20)):
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(other))
        return b'\n'.join(lines), 'splice'
    if kind == 4:
        return data.replace(b'\n', b'\r\n'), 'crlf'
    if kind == 5:
        ends = [i for i, c in enumerate(b) if c == 10]
        for i in sorted(rng.sample(ends, min(len(ends), rng.randint(1, 50))), reverse=True):
            del b[i]
        return bytes(b), 'join'
    if kind == 6:
        big = [b'0', b'-1', b'99999999999999999999', b'4294967296', b'18446744073709551616']
        return re.sub(rb'\d+', lambda m: rng.choice(big + [m.group(0) * 3])
                      if rng.random() < 0.05 else m.group(0), data), 'numbers'
    if kind == 7:
        line = rng.choice(lines)
        lines.insert(rng.randrange(len(lines) + 1), line * rng.randint(100, 20000))
        return b'\n'.join(lines), 'long line'
    if kind == 8:
        for _ in range(rng.randint(1, 10)):
            p = rng.randrange(len(b) + 1)
            b[p:p] = os.urandom(rng.randint(1, 200))
        return bytes(b), 'garbage'
    if kind == 9:
        rng.shuffle(lines)
        return b'\n'.join(lines), 'shuffle'
    if kind == 10:
        x, y = rng.sample([b'"', b"'", b',', b' ', b':', b'=', b'|', b'\t', b';', b'}', b']'], 2)
        return data.replace(x, y, rng.randint(1, 50)), 'swap'
    return b'\n'.join(l for l in lines if rng.random() < 0.5), 'drop'


def write(path, data, rng):
    """Writes `data`, gzipped (and sometimes cut) when the path says so."""
    if path.endswith('.gz'):
        data = gzip.compress(data)
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data) + 1)]
    with open(path, 'wb') as f:
        f.write(data)


def archive(base, out, rng):
    """A tar, tar.gz or zip of a few of the incident's directories, then damaged."""
    dirs = sorted(d for d in glob.glob(base + '/*/*') if os.path.isdir(d))
    pick = rng.sample(dirs, min(3, len(dirs)))
    kind = rng.choice(['tar', 'tar.gz', 'zip'])
    path = out + '/evidence.' + kind
    if kind == 'zip':
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
            for d in pick:
                for f in sorted(glob.glob(d + '/*')):
                    z.write(f, os.path.relpath(f, base))
    else:
        with tarfile.open(path, 'w:gz' if kind == 'tar.gz' else 'w') as t:
            for d in pick:
                t.add(d, os.path.relpath(d, base))
    b = bytearray(open(path, 'rb').read())
    how = rng.randrange(3)
    if how == 0:
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif how == 1:
        b = b[:rng.randrange(len(b))]
    else:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(min(2048, len(b)))] = rng.randrange(256)
    open(path, 'wb').write(bytes(b))
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('runs', type=int)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--bin', default='target/release/breachline')
    ap.add_argument('--work', default='/tmp/breachline-mutate')
    ap.add_argument('--dirs', action='store_true', help='damage files of a whole incident')
    ap.add_argument('--archives', action='store_true', help='damage archives of evidence')
    ap.add_argument('--mode', default='report', choices=['report', 'timeline', 'case'])
    ap.add_argument('--timeout', type=float, default=60)
    o = ap.parse_args()
    base = os.path.join(o.work, 'base')
    if not os.path.isdir(base):
        subprocess.run([o.bin, 'simulate', '--out-dir', base, '--scale', '0.02', '--gateway',
                        'all', '--db', 'all', '--push', 'all', '--seed', str(o.seed)],
                       check=True, capture_output=True)
    pool = sorted(f for f in glob.glob(base + '/*/*/*') if os.path.isfile(f))
    bad = 0
    for n in range(o.seed, o.seed + o.runs):
        rng = random.Random(n)
        run = os.path.join(o.work, 'run')
        shutil.rmtree(run, ignore_errors=True)
        os.makedirs(run)
        if o.archives:
            target, what = archive(base, run, rng), 'archive'
        elif o.dirs:
            shutil.copytree(base, run + '/ev', ignore=shutil.ignore_patterns('truth.json'))
            files = sorted(f for f in glob.glob(run + '/ev/*/*/*') if os.path.isfile(f))
            kinds = []
            for f in rng.sample(files, rng.randint(1, 6)):
                data, kind = mutate(load(f), rng, pool)
                write(f, data, rng)
                kinds.append(kind)
            target, what = run + '/ev', ','.join(kinds)
        else:
            src = rng.choice(pool)
            data, what = mutate(load(src), rng, pool)
            target = os.path.join(run, os.path.basename(src))
            if not src.endswith('.gz') and rng.random() < 0.2:
                target += '.gz'
            write(target, data, rng)
        tz = ['--assume-tz', rng.choice(['UTC', 'Europe/Kyiv', '+05:30'])]
        quiet = ['--no-progress', '-q']
        if o.mode == 'case':
            subprocess.run([o.bin, 'ingest', target, '-o', run + '/case.parquet'] + tz + quiet,
                           capture_output=True, timeout=o.timeout)
            args = [o.bin, 'report', run + '/case.parquet', '--out-dir', run + '/out']
        elif o.mode == 'timeline':
            args = [o.bin, 'timeline', target, '-o', run + '/timeline.csv'] + tz
        else:
            args = [o.bin, 'report', target, '--out-dir', run + '/out'] + tz
        try:
            r = subprocess.run(args + quiet, capture_output=True, timeout=o.timeout)
            err = r.stderr.decode('utf-8', 'replace')
            failed = r.returncode not in (0, 1, 2) or 'panicked' in err
            say = f'exit {r.returncode}: {err[-400:]}'
        except subprocess.TimeoutExpired:
            failed, say = True, f'no end after {o.timeout} s'
        if failed:
            bad += 1
            keep = os.path.join(o.work, f'bad-{n}')
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(run, keep, ignore=shutil.ignore_patterns('out'))
            print(f'run {n} ({what}): {say}\n  input kept in {keep}', flush=True)
    print(f'{o.runs} runs, {bad} failed')
    raise SystemExit(1 if bad else 0)


if __name__ == '__main__':
    main()
