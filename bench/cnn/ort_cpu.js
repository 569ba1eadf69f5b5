// ONNX Runtime (npm onnxruntime-node) timed by process CPU time per run as well as wall time,
// for comparisons on a machine shared with other work (at 1 thread, CPU time is not inflated by
// lost time slices). usage: node ort_cpu.js DIR THREADS ITERS -> one JSON line.
const ort = require('onnxruntime-node');
const fs = require('fs'), path = require('path');
const [dir, threads = '1', iters = '20'] = process.argv.slice(2);
const T = { float32: ['float32', Float32Array], int64: ['int64', BigInt64Array] };
(async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'peer_inputs.json')));
  const feeds = {};
  for (const m of meta) {
    const buf = fs.readFileSync(path.join(dir, m.file));
    const [t, C] = T[m.dtype];
    feeds[m.name] = new ort.Tensor(t, new C(buf.buffer, buf.byteOffset, buf.length / C.BYTES_PER_ELEMENT), m.shape);
  }
  const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'),
    { intraOpNumThreads: +threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const wall = [], cpu = [];
  for (let i = 0; i < +iters; i++) {
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    await s.run(feeds);
    const t1 = process.hrtime.bigint(), c1 = process.cpuUsage(c0);
    wall.push(Number(t1 - t0) / 1e6);
    cpu.push((c1.user + c1.system) / 1e3);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const med = (v) => v[v.length >> 1];
  console.log(JSON.stringify({ median_ms: med(wall), min_ms: wall[0], cpu_median_ms: med(cpu) }));
})().catch(e => { console.error(String(e)); process.exit(1); });
