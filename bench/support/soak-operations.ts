// The soak's request mix. Writes only go to orders in a state that allows them (and not while another
// write to the same order is in flight), so every status other than 2xx in the report is worth a look.

export interface SoakOrder {
  id: string;
  customerId: string;
  status: 'pending' | 'confirmed' | 'shipped' | 'cancelled';
  version: number;
  busy: boolean;
}

export interface Operation {
  kind: 'read' | 'write';
  name: string;
  path: string;
  init?: RequestInit;
  onSuccess?: (body: string) => void;
  onSettled?: () => void;
}

const CUSTOMERS = 50;
const JSON_HEADERS = { 'content-type': 'application/json' };

type Random = () => number;

/** A random order matching `wanted`, trying a few picks (none: undefined, and the caller places one instead). */
const anyOrder = (orders: SoakOrder[], random: Random, wanted: (o: SoakOrder) => boolean) => {
  for (let attempt = 0; attempt < 20 && orders.length > 0; attempt++) {
    const order = orders[Math.floor(random() * orders.length)]!;
    if (wanted(order)) return order;
  }
  return undefined;
};

const write = (
  order: SoakOrder,
  name: string,
  path: string,
  init: RequestInit,
  after: (o: SoakOrder) => void,
): Operation => {
  order.busy = true;
  return {
    kind: 'write',
    name,
    path,
    init,
    onSuccess: (body) => {
      order.version = (JSON.parse(body) as { version: number }).version;
      after(order);
    },
    onSettled: () => {
      order.busy = false;
    },
  };
};

const isOpen = (o: SoakOrder) => !o.busy && (o.status === 'pending' || o.status === 'confirmed');

export const pickOperation = (
  orders: SoakOrder[],
  random: Random,
  bodyOf: (n: number) => string,
): Operation => {
  const place = (): Operation => {
    const n = Math.floor(random() * CUSTOMERS);
    return {
      kind: 'write',
      name: 'place',
      path: '/orders',
      init: {
        method: 'POST',
        headers: JSON_HEADERS,
        body: bodyOf(n).replace(/bench-customer-\d+/, `soak-customer-${n}`),
      },
      onSuccess: (body) => {
        const { orderId, version } = JSON.parse(body) as { orderId: string; version: number };
        orders.push({
          id: orderId,
          customerId: `soak-customer-${n}`,
          status: 'pending',
          version,
          busy: false,
        });
      },
    };
  };
  const r = random();
  if (r < 0.12 || orders.length < 20) return place();
  const settled = orders.slice(0, -20); // read orders placed a while ago: a plain read of a just-placed one may 404
  if (r < 0.22) {
    const o = anyOrder(orders, random, (x) => !x.busy && x.status === 'pending');
    if (!o) return place();
    const body = JSON.stringify({ sku: `SKU-${Math.floor(random() * 100)}`, quantity: 1, unitPrice: 4.25 });
    return write(
      o,
      'add item',
      `/orders/${o.id}/items`,
      { method: 'POST', headers: JSON_HEADERS, body },
      () => {},
    );
  }
  if (r < 0.3) {
    const o = anyOrder(orders, random, (x) => !x.busy && x.status === 'pending');
    if (!o) return place();
    return write(o, 'confirm', `/orders/${o.id}/confirm`, { method: 'POST' }, (x) => {
      x.status = 'confirmed';
    });
  }
  if (r < 0.36) {
    const o = anyOrder(orders, random, (x) => !x.busy && x.status === 'confirmed');
    if (!o) return place();
    const init = { method: 'POST', headers: JSON_HEADERS, body: '{"trackingNumber":"1Z999"}' };
    return write(o, 'ship', `/orders/${o.id}/ship`, init, (x) => {
      x.status = 'shipped';
    });
  }
  if (r < 0.38) {
    const o = anyOrder(orders, random, isOpen);
    if (!o) return place();
    const init = { method: 'DELETE', headers: JSON_HEADERS, body: '{"reason":"soak"}' };
    return write(o, 'cancel', `/orders/${o.id}`, init, (x) => {
      x.status = 'cancelled';
    });
  }
  if (r < 0.4) {
    const o = anyOrder(orders, random, isOpen);
    if (!o) return place();
    const body = JSON.stringify({
      line1: '2 Side Street',
      city: 'Paris',
      postalCode: '75002',
      country: 'FR',
    });
    return write(
      o,
      'address',
      `/orders/${o.id}/shipping-address`,
      { method: 'PUT', headers: JSON_HEADERS, body },
      () => {},
    );
  }
  const read = (name: string, path: string): Operation => ({ kind: 'read', name, path });
  const known = settled[Math.floor(random() * settled.length)] ?? orders[0]!;
  if (r < 0.65) return read('get order', `/orders/${known.id}`);
  if (r < 0.75) {
    const latest = orders[orders.length - 1 - Math.floor(random() * Math.min(orders.length, 20))]!;
    return read('get order ?minVersion', `/orders/${latest.id}?minVersion=${latest.version}`);
  }
  if (r < 0.85) return read('customer orders', `/customers/${known.customerId}/orders?limit=20`);
  if (r < 0.95) {
    const sort = random() < 0.5 ? '-createdAt' : '-totalAmount';
    return read('orders list', `/orders?status=pending&sort=${sort}&limit=20`);
  }
  const today = new Date();
  const from = new Date(today.getTime() - 7 * 86_400_000);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return read('daily revenue', `/reports/daily-revenue?from=${day(from)}&to=${day(today)}`);
};
