#!/usr/bin/env node
// Segment's own Ortto (Actions) destination engine on a file of Segment events: the anchor of
// streamer's benchmark (issue 14). A thin driver around the published packages pinned in
// package.json (installed by run.py into a cache directory; NODE_PATH points there):
//
//   trigger     @segment/destination-subscriptions: parseFql once per subscription at start-up,
//               validate() per event and subscription, as Segment's onSubscription does;
//   batching    the matching events of each subscription gathered into batches of --batch-size
//               (Segment batches per subscription, and so does streamer's batcher);
//   the batch   Destination#executeBatch of @segment/actions-core with the ortto destination
//               of @segment/action-destinations: mapping-kit's transformBatch of the mapping,
//               removeEmptyValues + schema validation (ajv) per payload, then the action's
//               performBatch (cleanObject, loop prevention, the JSON request through
//               actions-core's request client) and the multi-status answer.
//
// The request goes over real HTTP (keep-alive) to a loopback server in a child process, so
// the client's serialisation and socket work is counted like streamer's and the server's is
// not (its CPU is reported apart). The server answers as Ortto does when every item
// succeeded: 200 {"errors": []}. The destination's own ORTTO_LOCAL_ENDPOINT setting points it
// there.
//
// Timing: each pass reads the file again (not timed, synchronously), JSON.parse's each batch of lines (timed
// apart, "decode") and runs the engine on it (timed: wall clock and process.cpuUsage()).
// A warm-up pass over the first --warmup events comes first; the figures are the median pass.
// --limit N measures the first N events of the file only.
// Output: one JSON document on stdout. Exit 0, or 1 with the reason on stderr.
'use strict'

const childProcess = require('child_process')
const fs = require('fs')
const http = require('http')
const path = require('path')

function parseArgs(argv) {
  const args = {
    batchSize: 500, passes: 3, warmup: 20000, limit: Infinity, subscriptions: 'presets', dump: null
  }
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${key} needs a value`)
      return argv[++i]
    }
    if (key === '--events') args.events = value()
    else if (key === '--batch-size') args.batchSize = Number(value())
    else if (key === '--passes') args.passes = Number(value())
    else if (key === '--warmup') args.warmup = Number(value())
    else if (key === '--limit') args.limit = Number(value())
    else if (key === '--subscriptions') args.subscriptions = value()
    else if (key === '--dump') args.dump = value()
    else if (key === '--serve') args.serve = true
    else throw new Error(`unknown argument ${key}`)
  }
  if (!args.serve && !args.events) throw new Error('--events FILE is required')
  for (const name of ['batchSize', 'passes']) {
    if (!Number.isInteger(args[name]) || args[name] < 1) throw new Error(`--${name} must be >= 1`)
  }
  if (!Number.isInteger(args.warmup) || args.warmup < 0) throw new Error('--warmup must be >= 0')
  if (args.limit !== Infinity && (!Number.isInteger(args.limit) || args.limit < 1)) {
    throw new Error('--limit must be >= 1')
  }
  return args
}

// ---- the stand-in for Ortto: a child process, so that its CPU is not the engine's ----------

function serve(dumpPath) {
  const stats = { requests: 0, items: 0, bytes: 0, paths: {}, statuses: {} }
  const dump = dumpPath ? fs.openSync(dumpPath, 'w') : null
  let since = process.cpuUsage()
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = JSON.parse(raw.toString('utf8'))
      stats.requests += 1
      stats.items += Array.isArray(body) ? body.length : 0
      stats.bytes += raw.length
      stats.paths[req.url] = (stats.paths[req.url] || 0) + 1
      if (dump !== null) {
        const record = { method: req.method, path: req.url, auth: req.headers.authorization, body }
        fs.writeSync(dump, JSON.stringify(record) + '\n')
      }
      const answer = '{"errors":[]}'
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length })
      res.end(answer)
    })
  })
  server.keepAliveTimeout = 60000
  // The driver gone (killed, crashed): no sink is left behind.
  process.on('disconnect', () => process.exit(0))
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('message', (message) => {
    if (message === 'stats') {
      const cpu = process.cpuUsage(since)
      since = process.cpuUsage()
      process.send({ stats: { ...stats, cpu_s: (cpu.user + cpu.system) / 1e6 } })
      stats.requests = 0
      stats.items = 0
      stats.bytes = 0
      stats.paths = {}
    } else if (message === 'stop') {
      if (dump !== null) fs.closeSync(dump)
      process.exit(0)
    }
  })
}

function startServer(dumpPath) {
  const child = childProcess.fork(__filename, ['--serve', ...(dumpPath ? ['--dump', dumpPath] : [])],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = () => new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the loopback server exited (${code})`))
    child.once('exit', onExit)
    child.once('message', (message) => { child.off('exit', onExit); resolve(message) })
  })
  return next().then(({ port }) => ({
    port,
    stats: () => { const answer = next(); child.send('stats'); return answer.then((m) => m.stats) },
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.send('stop') })
  }))
}

// ---- the engine ---------------------------------------------------------------------------

function packageVersion(name) {
  // Not require(`${name}/package.json`): actions-core's "exports" does not list it.
  for (const dir of require.resolve.paths(name) || []) {
    const file = path.join(dir, name, 'package.json')
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version
  }
  return null
}

function loadSubscriptions(definition, spec) {
  if (spec === 'presets') {
    return definition.presets.map((p) => ({
      name: p.name, subscribe: p.subscribe, partnerAction: p.partnerAction, mapping: p.mapping
    }))
  }
  const list = JSON.parse(fs.readFileSync(spec, 'utf8'))
  if (!Array.isArray(list)) throw new Error(`${spec}: expected a JSON list of subscriptions`)
  return list
}

class Engine {
  constructor(subscriptions, batchSize) {
    const { Destination } = require('@segment/actions-core')
    const { parseFql, validate } = require('@segment/destination-subscriptions')
    const definition = require('@segment/action-destinations/dist/destinations/ortto').default
    this.destination = new Destination(definition)
    this.validate = validate
    this.batchSize = batchSize
    // The key only has to be well formed: ORTTO_LOCAL_ENDPOINT replaces the host it names.
    this.settings = { api_key: 'pau-streamer-benchmark' }
    this.subscriptions = loadSubscriptions(definition, subscriptions).map((s, i) => {
      const name = `subscriptions.${i}${s.name ? ` (${s.name})` : ''}`
      const fql = parseFql(s.subscribe)
      if (fql.error) throw new Error(`${name}: subscribe: ${fql.error.message}`)
      if (!this.destination.actions[s.partnerAction]) {
        throw new Error(`${name}: no action ${s.partnerAction}`)
      }
      return { ...s, fql, pending: [] }
    })
    this.counts = { routed: 0, accepted: 0, rejected: 0, rejections: {} }
  }

  async add(events) {
    for (const event of events) {
      let matched = false
      for (const s of this.subscriptions) {
        if (!this.validate(s.fql, event)) continue
        matched = true
        s.pending.push(event)
        if (s.pending.length >= this.batchSize) await this.send(s)
      }
      if (matched) this.counts.routed += 1
    }
  }

  async flush() {
    for (const s of this.subscriptions) if (s.pending.length > 0) await this.send(s)
  }

  async send(subscription) {
    const events = subscription.pending
    subscription.pending = []
    const statuses = await this.destination.executeBatch(subscription.partnerAction, {
      events, mapping: subscription.mapping, settings: this.settings,
      subscriptionMetadata: {}, features: {}, statsContext: {}
    })
    for (const status of statuses) {
      if (status && status.status >= 200 && status.status < 300) {
        this.counts.accepted += 1
        continue
      }
      this.counts.rejected += 1
      // Why, by message (they name the field): a run that rejects what streamer sends is no
      // measure of the same work, and this says so at once.
      const reason = `${subscription.partnerAction}: ${status ? status.errormessage : 'no status'}`
      this.counts.rejections[reason] = (this.counts.rejections[reason] || 0) + 1
    }
  }
}

function cpuSeconds(since) {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1e6
}

// The file's non-blank lines, `size` at a time. Synchronous on purpose: nothing reads the file
// in the background while the engine awaits its requests, so the engine's CPU is its own.
function* batchesOfLines(file, size) {
  const fd = fs.openSync(file, 'r')
  const chunk = Buffer.allocUnsafe(1 << 22)
  let rest = Buffer.alloc(0)
  let lines = []
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null)
      const data = rest.length ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n)
      let start = 0
      for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
        const line = data.toString('utf8', start, end)
        start = end + 1
        if (line.trim() === '') continue
        lines.push(line)
        if (lines.length === size) {
          yield lines
          lines = []
        }
      }
      rest = Buffer.from(data.subarray(start)) // a copy: the chunk is read into again
      if (n === 0) break
    }
    const last = rest.toString('utf8')
    if (last.trim() !== '') lines.push(last)
    if (lines.length > 0) yield lines
  } finally {
    fs.closeSync(fd)
  }
}

async function pass(args, limit) {
  const engine = new Engine(args.subscriptions, args.batchSize)
  const timing = { events: 0, seconds: 0, cpu_s: 0, decode_seconds: 0, decode_cpu_s: 0 }
  const run = async (lines) => {
    let wall = process.hrtime.bigint()
    let cpu = process.cpuUsage()
    const events = lines.map((line, i) => {
      try {
        return JSON.parse(line)
      } catch (error) {
        throw new Error(`${args.events}: event ${timing.events + i + 1}: not JSON (${error.name})`)
      }
    })
    const decoded = process.hrtime.bigint()
    timing.decode_seconds += Number(decoded - wall) / 1e9
    timing.decode_cpu_s += cpuSeconds(cpu)
    wall = decoded
    cpu = process.cpuUsage()
    await engine.add(events)
    timing.seconds += Number(process.hrtime.bigint() - wall) / 1e9
    timing.cpu_s += cpuSeconds(cpu)
    timing.events += events.length
  }
  for (const lines of batchesOfLines(args.events, args.batchSize)) {
    const room = limit - timing.events
    if (room <= 0) break
    await run(lines.length > room ? lines.slice(0, room) : lines)
  }
  const wall = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  await engine.flush()
  timing.seconds += Number(process.hrtime.bigint() - wall) / 1e9
  timing.cpu_s += cpuSeconds(cpu)
  return { ...timing, ...engine.counts }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  if (args.serve) return serve(args.dump)
  const server = await startServer(args.dump)
  try {
    process.env.ORTTO_LOCAL_ENDPOINT = `http://127.0.0.1:${server.port}`
    if (args.warmup > 0 && !args.dump) {
      await pass(args, Math.min(args.warmup, args.limit))
      await server.stats()
    }
    const passes = []
    for (let i = 0; i < (args.dump ? 1 : args.passes); i++) {
      const result = await pass(args, args.limit)
      const sink = await server.stats()
      passes.push({ ...result, requests: sink.requests, items: sink.items, bytes: sink.bytes,
        paths: sink.paths, server_cpu_s: sink.cpu_s })
    }
    // The median pass by engine wall time; CPU is the median of the passes' CPU.
    const seconds = median(passes.map((p) => p.seconds))
    const chosen = passes.find((p) => p.seconds === seconds) || passes[0]
    const cpu = median(passes.map((p) => p.cpu_s))
    const decode = median(passes.map((p) => p.decode_seconds))
    const decodeCpu = median(passes.map((p) => p.decode_cpu_s))
    const events = chosen.events
    if (events === 0) throw new Error(`${args.events}: no events`)
    const document = {
      engine: 'segment-actions',
      events,
      routed: chosen.routed,
      accepted: chosen.accepted,
      rejected: chosen.rejected,
      rejections: chosen.rejections,
      requests: chosen.requests,
      items: chosen.items,
      bytes: chosen.bytes,
      paths: chosen.paths,
      batch_size: args.batchSize,
      seconds,
      events_per_s: events / seconds,
      cpu_s: cpu,
      cpu_us_per_event: (cpu / events) * 1e6,
      decode_seconds: decode,
      decode_cpu_us_per_event: (decodeCpu / events) * 1e6,
      with_decode_events_per_s: events / (seconds + decode),
      with_decode_cpu_us_per_event: ((cpu + decodeCpu) / events) * 1e6,
      server_cpu_s: median(passes.map((p) => p.server_cpu_s)),
      passes,
      warmup_events: args.dump ? 0 : Math.min(args.warmup, events),
      intercept: 'loopback HTTP server in a child process (127.0.0.1), 200 {"errors":[]}',
      versions: {
        node: process.versions.node,
        '@segment/actions-core': packageVersion('@segment/actions-core'),
        '@segment/action-destinations': packageVersion('@segment/action-destinations'),
        '@segment/destination-subscriptions': packageVersion('@segment/destination-subscriptions')
      }
    }
    process.stdout.write(JSON.stringify(document) + '\n')
  } finally {
    await server.stop()
  }
}

main().catch((error) => {
  process.stderr.write(`segment engine: ${error && error.message ? error.message : error}\n`)
  process.exit(1)
})
