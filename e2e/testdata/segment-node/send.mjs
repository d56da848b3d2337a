// send.mjs drives the real @segment/analytics-node library against a running
// bottega. go test ./e2e runs it (see segment_node_test.go); by hand:
//
//   node send.mjs http://127.0.0.1:8080 bwk_… [prefix]
//
// or with BOTTEGA_HOST, BOTTEGA_WRITE_KEY and BOTTEGA_PREFIX in the
// environment. It sends, in three phases each ended by closeAndFlush():
//   1. anonymous browsing: page and track "Product Viewed";
//   2. identify (e-mail, phone), track "Order Completed" with products,
//      page, screen and group;
//   3. alias from the anonymous id to the user id.
// Every call has a fixed messageId and timestamp. On stdout it prints one
// JSON line: {library, events: [{messageId, type, timestamp}], statuses}.
// It exits non-zero if the library reports any error or a non-2xx answer.

import { Analytics } from '@segment/analytics-node'

const host = process.argv[2] || process.env.BOTTEGA_HOST
const writeKey = process.argv[3] || process.env.BOTTEGA_WRITE_KEY
const prefix = process.argv[4] || process.env.BOTTEGA_PREFIX || 'node'
if (!host || !writeKey) {
  console.error('usage: node send.mjs HOST WRITE_KEY [PREFIX]')
  process.exit(2)
}

const ids = {
  anon: `${prefix}-anon-7f3a`,
  user: `${prefix}-user-1001`,
  email: `Maria.Rossi+${prefix}@Example.COM`,
  phone: '347 123 4567',
  order: `${prefix}-order-1`,
  group: `${prefix}-acme`,
}

const events = []
const statuses = []
const errors = []

// at returns a fixed time offset from now, to the millisecond.
const now = Date.now()
const at = (offsetMs) => new Date(now + offsetMs)

function client() {
  const a = new Analytics({
    writeKey,
    host,
    flushAt: 3,
    flushInterval: 100,
    maxRetries: 3,
    httpRequestTimeout: 20000,
  })
  a.on('error', (err) => {
    errors.push(String(err?.reason ?? err?.code ?? err))
  })
  a.on('http_response', (res) => {
    statuses.push(res.status)
  })
  return a
}

// call makes one library call and records what was sent.
function call(a, type, params) {
  events.push({ messageId: params.messageId, type, timestamp: params.timestamp.toISOString() })
  a[type](params)
}

// Phase 1: anonymous browsing.
let a = client()
call(a, 'page', {
  anonymousId: ids.anon, messageId: `${prefix}-page-anon`, timestamp: at(-3 * 3600e3),
  name: 'Home', properties: { url: 'https://shop.example/', title: 'Bottega Shop' },
})
call(a, 'track', {
  anonymousId: ids.anon, messageId: `${prefix}-track-viewed`, timestamp: at(-3 * 3600e3 + 60e3),
  event: 'Product Viewed', properties: { product_id: 'p-1', sku: 'SKU-1', price: 19.95 },
})
await a.closeAndFlush({ timeout: 60000 })

// Phase 2: the customer signs up and buys.
a = client()
call(a, 'identify', {
  userId: ids.user, messageId: `${prefix}-identify`, timestamp: at(-2 * 3600e3),
  traits: { email: ids.email, phone: ids.phone, name: 'Maria Rossi', firstName: 'Maria', lastName: 'Rossi' },
})
call(a, 'track', {
  userId: ids.user, messageId: `${prefix}-track-order`, timestamp: at(-48 * 3600e3),
  event: 'Order Completed',
  properties: {
    order_id: ids.order, total: 59.9, currency: 'EUR',
    products: [
      { product_id: 'p-1', sku: 'SKU-1', name: 'Espresso cups', price: 19.95, quantity: 2 },
      { product_id: 'p-2', sku: 'SKU-2', name: 'Moka pot', price: 20, quantity: 1 },
    ],
  },
})
call(a, 'page', {
  userId: ids.user, messageId: `${prefix}-page`, timestamp: at(-3600e3),
  name: 'Checkout', properties: { url: 'https://shop.example/checkout' },
})
call(a, 'screen', {
  userId: ids.user, messageId: `${prefix}-screen`, timestamp: at(-1800e3),
  name: 'Cart', properties: { items: 2 },
})
call(a, 'group', {
  userId: ids.user, messageId: `${prefix}-group`, timestamp: at(-900e3),
  groupId: ids.group, traits: { name: 'ACME Srl', industry: 'retail' },
})
await a.closeAndFlush({ timeout: 60000 })

// Phase 3: the anonymous visitor was this customer all along.
a = client()
call(a, 'alias', {
  userId: ids.user, previousId: ids.anon, messageId: `${prefix}-alias`, timestamp: at(-60e3),
})
await a.closeAndFlush({ timeout: 60000 })

console.log(JSON.stringify({ library: '@segment/analytics-node', events, statuses, errors }))
const bad = statuses.filter((s) => s < 200 || s > 299)
if (errors.length > 0 || bad.length > 0 || statuses.length === 0) {
  console.error(`send.mjs: errors: ${JSON.stringify(errors)}; non-2xx answers: ${JSON.stringify(bad)}`)
  process.exit(1)
}
