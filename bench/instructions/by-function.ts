// Instructions per request by function, JIT code included. callgrind names the node binary's own
// functions (V8 builtins, the runtime, libuv), but JavaScript compiled at run time is only an address to
// it. With --perf-basic-prof, V8 writes /tmp/perf-<pid>.map (start, size, name of every code object it
// makes); mapping each address callgrind reports through that file names the JavaScript function and its
// tier (`*` TurboFan, `+` Maglev, `^` Sparkplug, `~` interpreted). The tiers of one function are summed.
// Two cautions. The perf map has a cost of its own (V8 then reports the objects it moves,
// Heap::OnMoveEvent), so compare totals only between runs made the same way. And an instruction is an
// instruction here, where a tight JIT loop runs several to a cycle and C++ behind a call far fewer:
// `perf record` says what the same code costs in time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface CodeRange { start: number; end: number; name: string }

/** The code objects of a perf map; where an address was reused, the later entry wins. */
function readPerfMap(path: string): CodeRange[] {
  const byStart = new Map<number, CodeRange>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ');
    if (!name.length) continue;
    const at = parseInt(start, 16);
    byStart.set(at, { start: at, end: at + parseInt(size, 16), name: name.join(' ') });
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

function find(ranges: CodeRange[], address: number): CodeRange | undefined {
  let lo = 0, hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].start <= address) lo = mid + 1;
    else hi = mid - 1;
  }
  const range = ranges[hi];
  return range && address < range.end ? range : undefined;
}

/**
 * Frames every call passes through (the program's entry, the event loop, thread starts): callgrind_annotate
 * lists them with what ran beneath them, so they are left out.
 */
const ENTRY_FRAMES = /^\?\?\?:main |\(below main\)|__libc_start_main|libc_start_call_main|node::Start\(|NodeMainInstance::Run|SpinEventLoopInternal|start_thread|clone\.S:clone|\[[^\]]*ld-linux[^\]]*\]$/;

/** Self instructions per request of each function in a callgrind dump, most first. */
export function instructionsByFunction(dump: string, perfMap: string, requests: number, root: string): { name: string; perRequest: number }[] {
  const ranges = readPerfMap(perfMap);
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', dump], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const totals = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m) continue;
    if (ENTRY_FRAMES.test(m[2]) || m[2] === 'PROGRAM TOTALS') continue;
    const count = Number(m[1].replaceAll(',', ''));
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(m[2]);
    let name: string;
    if (jit) {
      const range = find(ranges, parseInt(jit[1], 16));
      name = range ? range.name.replace(/^JS:[*+^~']*/, 'JS ').replaceAll(`file://${root}/`, '').replaceAll(`${root}/`, '') : '(JIT code not in the map)';
    } else {
      name = m[2].replace(/^\?\?\?:/, '').replace(/ \[[^\]]*\]$/, '');
    }
    totals.set(name, (totals.get(name) ?? 0) + count);
  }
  return [...totals].map(([name, total]) => ({ name, perRequest: total / requests })).sort((a, b) => b.perRequest - a.perRequest);
}
